-- upsert_user --
-- Record the caller just in time; rewrite the row only when the token's profile differs from what is stored.
INSERT INTO users AS u (id, user_type, first_name, last_name, email_address, custom_id, backend_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE
SET user_type = excluded.user_type,
    first_name = excluded.first_name,
    last_name = excluded.last_name,
    email_address = excluded.email_address,
    custom_id = excluded.custom_id,
    backend_id = excluded.backend_id,
    last_modification_time = now()
WHERE (u.user_type, u.first_name, u.last_name, u.email_address, u.custom_id, u.backend_id)
      IS DISTINCT FROM
      (excluded.user_type, excluded.first_name, excluded.last_name, excluded.email_address,
       excluded.custom_id, excluded.backend_id)
