-- create_status --
-- A new case status; a taken name violates case_statuses_name_unique.
-- params: name, description, backend_id, color, action, is_closed, script_id, pauses_service_level,
-- params: auto_close_after_hours, auto_close_status_id, reopen_status_id
INSERT INTO case_statuses (name, description, backend_id, color, action, is_closed, script_id, pauses_service_level,
                           auto_close_after_hours, auto_close_status_id, reopen_status_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING id

-- get_status --
-- One case status.
SELECT id, name, description, backend_id, color, action, is_closed, is_system, script_id, pauses_service_level,
       auto_close_after_hours, auto_close_status_id, reopen_status_id
FROM case_statuses
WHERE id = $1

-- update_status --
-- Every editable field of a status, as merged by the handler.
-- params: status_id, name, description, backend_id, color, action, is_closed, script_id, pauses_service_level,
-- params: auto_close_after_hours, auto_close_status_id, reopen_status_id
UPDATE case_statuses
SET name = $2, description = $3, backend_id = $4, color = $5, action = $6, is_closed = $7, script_id = $8,
    pauses_service_level = $9, auto_close_after_hours = $10, auto_close_status_id = $11, reopen_status_id = $12
WHERE id = $1

-- delete_status --
-- Remove a status no case uses (domain.statuses checked, under locks.lock_status).
DELETE FROM case_statuses WHERE id = $1

-- list_statuses_after --
-- A page of statuses in list order (highest ID first), after the keyset bound $1; $2 name contains,
-- $3 description contains (case-insensitive LIKE patterns).
-- params: bound_id, name, description, limit
SELECT id, name, description, backend_id, color, action, is_closed, is_system, script_id, pauses_service_level,
       auto_close_after_hours, auto_close_status_id, reopen_status_id
FROM case_statuses
WHERE id < $1
  AND ($2::text IS NULL OR name ILIKE $2)
  AND ($3::text IS NULL OR description ILIKE $3)
ORDER BY id DESC
LIMIT $4

-- list_statuses_before --
-- The same list, the rows before the keyset bound $1 (read backwards; the caller reverses them).
-- params: bound_id, name, description, limit
SELECT id, name, description, backend_id, color, action, is_closed, is_system, script_id, pauses_service_level,
       auto_close_after_hours, auto_close_status_id, reopen_status_id
FROM case_statuses
WHERE id > $1
  AND ($2::text IS NULL OR name ILIKE $2)
  AND ($3::text IS NULL OR description ILIKE $3)
ORDER BY id ASC
LIMIT $4
