-- topic_by_backend_id --
-- The live topic with BackendID $1 (the oldest, should several share it).
SELECT id, name FROM case_topics WHERE backend_id = $1 AND NOT is_deleted ORDER BY id LIMIT 1

-- topic_by_name_under --
-- The live topic named $1 (case-insensitively) under parent $2 (null: a root topic); at most one exists.
SELECT id, name FROM case_topics
WHERE lower(name) = lower($1) AND parent_id IS NOT DISTINCT FROM $2::bigint AND NOT is_deleted

-- topics_by_name --
-- Live topics named $1 (case-insensitively) anywhere in the tree; two rows are enough to know it is ambiguous.
SELECT id, name FROM case_topics WHERE lower(name) = lower($1) AND NOT is_deleted ORDER BY id LIMIT 2

-- topic_depth --
-- How many levels topic $1 is below the root (0 for a root topic).
SELECT max(depth) FROM topic_ancestry($1)

-- create_topic --
-- A topic named $2 under parent $1 (null: root) with BackendID $3; no row when a live sibling already has the
-- name (a simultaneous push created it: the caller reads that one).
INSERT INTO case_topics (parent_id, name, backend_id) VALUES ($1, $2, $3)
ON CONFLICT (coalesce(parent_id, 0), lower(name)) WHERE NOT is_deleted DO NOTHING
RETURNING id, name

-- find_status --
-- The status named $1 (exactly, else case-insensitively), else the one with BackendID $1; share-locked, as a
-- status a case moves into (see locks.sql, share_status).
SELECT id, name, is_closed FROM case_statuses
WHERE lower(name) = lower($1) OR backend_id = $1
ORDER BY name = $1 DESC, lower(name) = lower($1) DESC, id
LIMIT 1
FOR SHARE

-- create_status --
-- An open status named $1; no row when a simultaneous push created it first.
INSERT INTO case_statuses (name) VALUES ($1)
ON CONFLICT (name) DO NOTHING
RETURNING id, name, is_closed

-- user_by_id --
SELECT id, user_type, first_name, last_name FROM users WHERE id = $1

-- employee_by_custom_id --
-- The Employee or System user with CustomID $1 (as recorded from their token or set by the CLI).
SELECT id, user_type, first_name, last_name FROM users
WHERE custom_id = $1 AND user_type & 1 <> 0
ORDER BY id
LIMIT 1

-- employee_by_email --
-- The Employee or System user with e-mail address $1 (case-insensitively).
SELECT id, user_type, first_name, last_name FROM users
WHERE lower(email_address) = lower($1) AND user_type & 1 <> 0
ORDER BY id
LIMIT 1

-- unit_by_backend_id --
SELECT id FROM organization_units WHERE backend_id = $1
