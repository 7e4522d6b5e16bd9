-- 0003: what PushCase needs.
-- Pushed customers (PushCase) are users too, created by the push rather than by a token. Their IDs come from
-- their own range, 10^15 and up (still exact in JavaScript); token subjects must stay below it (auth.py), so
-- the two can never collide.
ALTER TABLE users ADD COLUMN is_pushed boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD CONSTRAINT users_pushed_id_range CHECK (NOT is_pushed OR id >= 1000000000000000);
CREATE SEQUENCE pushed_customer_ids AS bigint
    START WITH 1000000000000001 MINVALUE 1000000000000001 MAXVALUE 9007199254740991;
-- One pushed customer per BackendID; lookups of customers and assignees by BackendID, e-mail and CustomID.
CREATE UNIQUE INDEX users_pushed_backend_id_unique ON users (backend_id) WHERE is_pushed AND backend_id IS NOT NULL;
CREATE INDEX users_backend_id_idx ON users (backend_id) WHERE backend_id IS NOT NULL;
CREATE INDEX users_email_idx ON users (lower(email_address)) WHERE email_address IS NOT NULL;
CREATE INDEX users_custom_id_idx ON users (custom_id) WHERE custom_id IS NOT NULL;

-- What a push tells about a customer beyond the users row (names and e-mail included, as pushed), with the
-- company details.
CREATE TABLE customer_profiles (
    user_id bigint PRIMARY KEY CONSTRAINT customer_profiles_user_fk REFERENCES users (id),
    gender text,
    initials text,
    first_name text,
    last_name text,
    email_address text,
    phone_number text,
    date_of_birth timestamptz(3),
    place_of_birth text,
    bank_account text,
    nickname text,
    language_id text,
    country_id text,
    fiscal_id text,
    social_security_number text,
    title text,
    salutation text,
    account_type integer,
    backend_relation_id text,
    company_name text,
    company_registration_number text,
    company_vat_number text,
    company_fiscal_id text,
    last_modification_time timestamptz(3) NOT NULL DEFAULT now()
);

-- A customer's shipping and billing address (one of each kind).
CREATE TABLE customer_addresses (
    user_id bigint NOT NULL CONSTRAINT customer_addresses_user_fk REFERENCES users (id),
    kind text NOT NULL CONSTRAINT customer_addresses_kind_valid CHECK (kind IN ('shipping', 'billing')),
    address1 text,
    address2 text,
    house_number text,
    first_name text,
    last_name text,
    zip_code text,
    city text,
    region text,
    district text,
    subdistrict text,
    email_address text,
    phone_number text,
    state text,
    country_id text,
    last_modification_time timestamptz(3) NOT NULL DEFAULT now(),
    CONSTRAINT customer_addresses_pkey PRIMARY KEY (user_id, kind)
);

-- PushCase finds topics by BackendID and by name anywhere in the tree.
CREATE INDEX case_topics_backend_id_idx ON case_topics (backend_id) WHERE backend_id IS NOT NULL AND NOT is_deleted;
CREATE INDEX case_topics_name_idx ON case_topics (lower(name)) WHERE NOT is_deleted;

UPDATE schema_version SET version = 3;
