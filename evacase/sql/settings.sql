-- get_settings --
-- The stored values of settings $1 (JSON text); settings never set have no row.
SELECT name, value::text AS value FROM settings WHERE name = ANY ($1::text[])

-- set_setting --
-- Store setting $1 = $2 (JSON text), set by user $3 (null: the CLI).
INSERT INTO settings (name, value, modified_by) VALUES ($1, $2::jsonb, $3)
ON CONFLICT (name) DO UPDATE
SET value = excluded.value, modified_by = excluded.modified_by, last_modification_time = now()
