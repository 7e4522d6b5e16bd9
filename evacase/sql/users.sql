-- upsert_user --
-- Record the caller just in time. Nothing is written, not even a row lock, when the stored profile already
-- equals the token's (a new process sees each user once); the row is rewritten only when the profile differs.
-- params: user_id, user_type, first_name, last_name, email_address, custom_id, backend_id, email_verified
WITH unchanged AS (
    SELECT 1 FROM users s
    WHERE s.id = $1
      AND (s.user_type, s.first_name, s.last_name, s.email_address, s.custom_id, s.backend_id, s.email_verified)
          IS NOT DISTINCT FROM ($2::integer, $3::text, $4::text, $5::text, $6::text, $7::text, $8::boolean)
)
INSERT INTO users AS u (id, user_type, first_name, last_name, email_address, custom_id, backend_id, email_verified)
SELECT $1, $2, $3, $4, $5, $6, $7, $8
WHERE NOT EXISTS (SELECT 1 FROM unchanged)
ON CONFLICT (id) DO UPDATE
SET user_type = excluded.user_type,
    first_name = excluded.first_name,
    last_name = excluded.last_name,
    email_address = excluded.email_address,
    custom_id = excluded.custom_id,
    backend_id = excluded.backend_id,
    email_verified = excluded.email_verified,
    last_modification_time = now()
WHERE (u.user_type, u.first_name, u.last_name, u.email_address, u.custom_id, u.backend_id, u.email_verified)
      IS DISTINCT FROM
      (excluded.user_type, excluded.first_name, excluded.last_name, excluded.email_address,
       excluded.custom_id, excluded.backend_id, excluded.email_verified)

-- set_user --
-- Create or update user $1 from the CLI (`evacase user`): given fields replace the stored ones, null keeps them;
-- a new user without a type is an Employee. The caller's next token rewrites what its claims say.
-- params: user_id, user_type, first_name, last_name, email_address, custom_id, backend_id
INSERT INTO users AS u (id, user_type, first_name, last_name, email_address, custom_id, backend_id)
VALUES ($1, coalesce($2, 1), $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE
SET user_type = coalesce($2, u.user_type),
    first_name = coalesce($3, u.first_name),
    last_name = coalesce($4, u.last_name),
    email_address = coalesce($5, u.email_address),
    custom_id = coalesce($6, u.custom_id),
    backend_id = coalesce($7, u.backend_id),
    last_modification_time = now()
WHERE NOT u.is_pushed
RETURNING id, user_type, first_name, last_name, email_address, custom_id, backend_id

-- get_user --
-- A user evacase knows (callers are recorded just in time, pushed customers when pushed).
SELECT id, user_type, first_name, last_name, email_address FROM users WHERE id = $1

-- current_user --
-- User $1 as GetCurrentUser shows it, with the phone number a push gave a customer.
SELECT u.id, u.user_type, u.first_name, u.last_name, u.email_address, u.custom_id, u.backend_id, u.email_verified,
       u.creation_time, nullif(p.phone_number, '') AS phone_number
FROM users u
LEFT JOIN customer_profiles p ON p.user_id = u.id
WHERE u.id = $1
