-- lock_customer_key --
-- Serialize whatever resolves the customer known by key $1 (`backend:<BackendID>` or `email:<address>`) until
-- the transaction ends: pushes of the same new customer, and a token holder claiming a pushed customer.
SELECT pg_advisory_xact_lock(hashtextextended('evacase.customer' || chr(31) || $1::text, 0))

-- customer_by_backend_id --
-- The customer with BackendID $1: a pushed one first, else a token holder (a customer user) with that claim.
SELECT id, is_pushed, backend_id FROM customer_by_backend_id($1)

-- customer_by_email --
-- The customer with e-mail address $1 (case-insensitively; customers only, pushed ones first). With a BackendID
-- $2, only customers without one qualify: a customer with another BackendID is someone else. A token holder
-- qualifies only with a verified address, unless $3 (PushCases:MatchUnverifiedEmail): anyone can sign a claim.
SELECT id, is_pushed, backend_id FROM users
WHERE lower(email_address) = lower($1) AND user_type & 2 <> 0
  AND ($2::text IS NULL OR backend_id IS NULL)
  AND (is_pushed OR email_verified OR $3::boolean)
ORDER BY is_pushed DESC, id
LIMIT 1

-- customer_by_id --
-- Customer $1 (a case's current customer), if it is a customer.
SELECT id, is_pushed, backend_id FROM users WHERE id = $1 AND user_type & 2 <> 0

-- create_customer --
-- A new pushed customer (its ID from the pushed customers' range); the profile follows separately.
INSERT INTO users (id, user_type, backend_id, is_pushed)
VALUES (nextval('pushed_customer_ids'), 2, $1, true)
RETURNING id

-- claim_backend_id --
-- A pushed customer found by e-mail takes the pushed BackendID.
UPDATE users SET backend_id = $2, last_modification_time = now() WHERE id = $1 AND is_pushed

-- upsert_profile --
-- Customer $1's profile: the pushed fields ($2, column -> value; a null clears) over what was stored before.
-- A pushed customer's users row (names, e-mail; empty ones as null) follows its profile; token holders keep
-- their token's.
WITH profile AS (
    INSERT INTO customer_profiles AS p
    SELECT (jsonb_populate_record(null::customer_profiles,
                                  $2::jsonb || jsonb_build_object('user_id', $1::bigint,
                                                                  'last_modification_time', now()))).*
    ON CONFLICT (user_id) DO UPDATE
    SET (gender, initials, first_name, last_name, email_address, phone_number, date_of_birth, place_of_birth,
         bank_account, nickname, language_id, country_id, fiscal_id, social_security_number, title, salutation,
         account_type, backend_relation_id, company_name, company_registration_number, company_vat_number,
         company_fiscal_id, last_modification_time)
      = (SELECT r.gender, r.initials, r.first_name, r.last_name, r.email_address, r.phone_number, r.date_of_birth,
                r.place_of_birth, r.bank_account, r.nickname, r.language_id, r.country_id, r.fiscal_id,
                r.social_security_number, r.title, r.salutation, r.account_type, r.backend_relation_id,
                r.company_name, r.company_registration_number, r.company_vat_number, r.company_fiscal_id, now()
         FROM jsonb_populate_record(p, $2::jsonb) r)
    RETURNING user_id, first_name, last_name, email_address
)
UPDATE users u
SET first_name = nullif(profile.first_name, ''), last_name = nullif(profile.last_name, ''),
    email_address = nullif(profile.email_address, ''), last_modification_time = now()
FROM profile
WHERE u.id = profile.user_id AND u.is_pushed
  AND (u.first_name, u.last_name, u.email_address) IS DISTINCT FROM
      (nullif(profile.first_name, ''), nullif(profile.last_name, ''), nullif(profile.email_address, ''))

-- upsert_address --
-- Customer $1's address of kind $2 ('shipping' or 'billing'): the pushed fields ($3) over the stored ones.
INSERT INTO customer_addresses AS a
SELECT (jsonb_populate_record(null::customer_addresses,
                              $3::jsonb || jsonb_build_object('user_id', $1::bigint, 'kind', $2::text,
                                                  'last_modification_time', now()))).*
ON CONFLICT (user_id, kind) DO UPDATE
SET (address1, address2, house_number, first_name, last_name, zip_code, city, region, district, subdistrict,
     email_address, phone_number, state, country_id, last_modification_time)
  = (SELECT r.address1, r.address2, r.house_number, r.first_name, r.last_name, r.zip_code, r.city, r.region,
            r.district, r.subdistrict, r.email_address, r.phone_number, r.state, r.country_id, now()
     FROM jsonb_populate_record(a, $3::jsonb) r)

-- delete_address --
-- A pushed `null` address removes that kind of address.
DELETE FROM customer_addresses WHERE user_id = $1 AND kind = $2

-- pushed_customer_for --
-- The pushed customer a customer token's `backend_id` claim ($1) names, if any.
SELECT id FROM users WHERE is_pushed AND backend_id = $1
