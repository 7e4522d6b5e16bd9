-- create_interaction --
-- An employee's interaction ($2 type, $3 text, $4 backend ID, $5 author) on case $1 when the caller may see it
-- ($6: the caller as a case_viewer) and it is not archived, in one statement; the case's
-- last interaction time follows it.
-- params: case_id, type, text, backend_id, author, viewer
WITH c AS (
    SELECT id, is_archived FROM cases
    WHERE id = $1
      AND case_visible(assigned_organization_unit_id, assignee_id, created_by, $6)
), ins AS (
    INSERT INTO interactions (case_id, type, text, backend_id, created_by)
    SELECT c.id, $2, $3, $4, $5 FROM c WHERE NOT c.is_archived
    RETURNING id, case_id, creation_time
), touched AS (
    UPDATE cases SET last_interaction_time = ins.creation_time FROM ins WHERE cases.id = ins.case_id
)
SELECT (SELECT id FROM ins) AS id, EXISTS (SELECT 1 FROM c) AS case_ok

-- get_interaction --
-- One interaction with its blob IDs, on a case the caller may see ($2 as in create_interaction).
SELECT i.id, i.case_id, i.type, i.text, i.backend_id, i.created_by, i.creation_time, i.last_modification_time,
       c.is_archived,
       ARRAY (SELECT b.blob_id FROM interaction_blobs b WHERE b.interaction_id = i.id ORDER BY b.position) AS blob_ids
FROM interactions i
JOIN cases c ON c.id = i.case_id
WHERE i.id = $1
  AND case_visible(c.assigned_organization_unit_id, c.assignee_id, c.created_by, $2)

-- update_interaction --
-- New text ($2) and, when $3, a new backend ID ($4).
UPDATE interactions
SET text = $2, backend_id = CASE WHEN $3 THEN $4 ELSE backend_id END, last_modification_time = now()
WHERE id = $1

-- delete_interaction --
-- Remove interaction $1 of case $2; the case's last interaction time falls back to its latest other
-- non-ledger interaction.
WITH gone AS (
    DELETE FROM interactions WHERE id = $1
)
UPDATE cases
SET last_interaction_time = (
    SELECT max(i.creation_time) FROM interactions i WHERE i.case_id = $2 AND i.type <> 2 AND i.id <> $1
)
WHERE id = $2

-- list_interactions_after --
-- Whether case $1 exists for the caller ($2 as above; no row: it does not) and a page of its interactions of a
-- type in $3, newest first, after the keyset bound ($4, $5); $6 text contains. The page comes from the index
-- before its rows are joined to their authors.
-- params: case_id, viewer, types, bound_time, bound_id, text, limit
SELECT c.is_archived, i.id, i.type, i.text, i.backend_id, i.created_by, i.creation_time,
       eva_time(i.creation_time) AS created_at, eva_time(i.last_modification_time) AS modified_at,
       u.first_name, u.last_name
FROM cases c
LEFT JOIN LATERAL (
    SELECT i.id, i.type, i.text, i.backend_id, i.created_by, i.creation_time, i.last_modification_time
    FROM interactions i
    WHERE i.case_id = c.id
      AND i.type = ANY ($3::integer[])
      AND (i.creation_time, i.id) < ($4, $5)
      AND ($6::text IS NULL OR i.text ILIKE $6)
    ORDER BY i.creation_time DESC, i.id DESC
    LIMIT $7
) i ON true
LEFT JOIN users u ON u.id = i.created_by
WHERE c.id = $1
  AND case_visible(c.assigned_organization_unit_id, c.assignee_id, c.created_by, $2)
ORDER BY i.creation_time DESC, i.id DESC

-- list_interactions_before --
-- The same list, the rows before the keyset bound (read backwards; the caller reverses them).
-- params: case_id, viewer, types, bound_time, bound_id, text, limit
SELECT c.is_archived, i.id, i.type, i.text, i.backend_id, i.created_by, i.creation_time,
       eva_time(i.creation_time) AS created_at, eva_time(i.last_modification_time) AS modified_at,
       u.first_name, u.last_name
FROM cases c
LEFT JOIN LATERAL (
    SELECT i.id, i.type, i.text, i.backend_id, i.created_by, i.creation_time, i.last_modification_time
    FROM interactions i
    WHERE i.case_id = c.id
      AND i.type = ANY ($3::integer[])
      AND (i.creation_time, i.id) > ($4, $5)
      AND ($6::text IS NULL OR i.text ILIKE $6)
    ORDER BY i.creation_time ASC, i.id ASC
    LIMIT $7
) i ON true
LEFT JOIN users u ON u.id = i.created_by
WHERE c.id = $1
  AND case_visible(c.assigned_organization_unit_id, c.assignee_id, c.created_by, $2)
ORDER BY i.creation_time ASC, i.id ASC

-- customer_add_message --
-- A customer's Communication interaction (text $2, customer $3) on their own open case $1, in one statement:
-- the case's last interaction time is set only where the case is theirs and its status open, and that update's
-- row lock is the only one taken (after a wait, PostgreSQL re-checks the case's latest version, status included).
-- No row: not their case, closed, or its status newer than this statement (created while it waited): the
-- handler then decides on the locked path (lock_customer_case, customer_create_interaction).
WITH touched AS (
    UPDATE cases c SET last_interaction_time = now()
    WHERE c.id = $1 AND c.customer_id = $3
      AND EXISTS (SELECT 1 FROM case_statuses s WHERE s.id = c.status_id AND NOT s.is_closed)
    RETURNING c.id
)
INSERT INTO interactions (case_id, type, text, created_by)
SELECT touched.id, 0, $2, $3 FROM touched
RETURNING id

-- customer_create_interaction --
-- A customer's Communication interaction on case $1; the case's last interaction time follows it.
WITH ins AS (
    INSERT INTO interactions (case_id, type, text, created_by) VALUES ($1, 0, $2, $3)
    RETURNING id, creation_time
), touched AS (
    UPDATE cases SET last_interaction_time = (SELECT creation_time FROM ins) WHERE id = $1
)
SELECT id FROM ins

-- customer_get_interaction --
-- One interaction of a type in $3, on a case of the customer $2.
SELECT i.id, i.case_id, i.type, i.text, i.created_by, i.creation_time, i.last_modification_time, s.is_closed
FROM interactions i
JOIN cases c ON c.id = i.case_id
JOIN case_statuses s ON s.id = c.status_id
WHERE i.id = $1 AND c.customer_id = $2 AND i.type = ANY ($3::integer[])

-- customer_update_interaction_text --
-- New text for an interaction.
UPDATE interactions SET text = $2, last_modification_time = now() WHERE id = $1

-- customer_delete_interaction --
-- Remove an interaction (its blob references go with it).
DELETE FROM interactions WHERE id = $1

-- customer_list_interactions_after --
-- Whether case $1 belongs to customer $2 (no row: it does not) and a page of its interactions of a type in
-- $3, newest first, after the keyset bound ($4, $5). The page is taken from the index first and only its rows
-- are joined to their authors: a case with thousands of interactions costs what a quiet one does. Without the
-- optional filters of the statements below (an optional `$n IS NULL OR ...` costs a generic plan CPU on every
-- page), and the times only as EVA shows them: the page's keys are read back from that text (creation times
-- hold milliseconds), which costs less than decoding a timestamp per row. The handler unpacks the columns by
-- position: every customer_list_interactions_* statement keeps this order.
-- params: case_id, customer_id, types, bound_time, bound_id, limit
SELECT s.is_closed, i.id, i.type, i.text, i.created_by,
       eva_time(i.creation_time) AS created_at, eva_time(i.last_modification_time) AS modified_at,
       u.first_name, u.last_name
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN LATERAL (
    SELECT i.id, i.type, i.text, i.created_by, i.creation_time, i.last_modification_time
    FROM interactions i
    WHERE i.case_id = c.id
      AND i.type = ANY ($3::integer[])
      AND (i.creation_time, i.id) < ($4, $5)
    ORDER BY i.creation_time DESC, i.id DESC
    LIMIT $6
) i ON true
LEFT JOIN users u ON u.id = i.created_by
WHERE c.id = $1 AND c.customer_id = $2
ORDER BY i.creation_time DESC, i.id DESC

-- customer_list_interactions_before --
-- The same list, the rows before the keyset bound (read backwards; the caller reverses them).
-- params: case_id, customer_id, types, bound_time, bound_id, limit
SELECT s.is_closed, i.id, i.type, i.text, i.created_by,
       eva_time(i.creation_time) AS created_at, eva_time(i.last_modification_time) AS modified_at,
       u.first_name, u.last_name
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN LATERAL (
    SELECT i.id, i.type, i.text, i.created_by, i.creation_time, i.last_modification_time
    FROM interactions i
    WHERE i.case_id = c.id
      AND i.type = ANY ($3::integer[])
      AND (i.creation_time, i.id) > ($4, $5)
    ORDER BY i.creation_time ASC, i.id ASC
    LIMIT $6
) i ON true
LEFT JOIN users u ON u.id = i.created_by
WHERE c.id = $1 AND c.customer_id = $2
ORDER BY i.creation_time ASC, i.id ASC

-- customer_list_interactions_filtered_after --
-- customer_list_interactions_after with the filters $6 ID and $7 text contains (either may be null).
-- params: case_id, customer_id, types, bound_time, bound_id, interaction_id, text, limit
SELECT s.is_closed, i.id, i.type, i.text, i.created_by,
       eva_time(i.creation_time) AS created_at, eva_time(i.last_modification_time) AS modified_at,
       u.first_name, u.last_name
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN LATERAL (
    SELECT i.id, i.type, i.text, i.created_by, i.creation_time, i.last_modification_time
    FROM interactions i
    WHERE i.case_id = c.id
      AND i.type = ANY ($3::integer[])
      AND (i.creation_time, i.id) < ($4, $5)
      AND ($6::bigint IS NULL OR i.id = $6)
      AND ($7::text IS NULL OR i.text ILIKE $7)
    ORDER BY i.creation_time DESC, i.id DESC
    LIMIT $8
) i ON true
LEFT JOIN users u ON u.id = i.created_by
WHERE c.id = $1 AND c.customer_id = $2
ORDER BY i.creation_time DESC, i.id DESC

-- customer_list_interactions_filtered_before --
-- The filtered list, the rows before the keyset bound (read backwards; the caller reverses them).
-- params: case_id, customer_id, types, bound_time, bound_id, interaction_id, text, limit
SELECT s.is_closed, i.id, i.type, i.text, i.created_by,
       eva_time(i.creation_time) AS created_at, eva_time(i.last_modification_time) AS modified_at,
       u.first_name, u.last_name
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN LATERAL (
    SELECT i.id, i.type, i.text, i.created_by, i.creation_time, i.last_modification_time
    FROM interactions i
    WHERE i.case_id = c.id
      AND i.type = ANY ($3::integer[])
      AND (i.creation_time, i.id) > ($4, $5)
      AND ($6::bigint IS NULL OR i.id = $6)
      AND ($7::text IS NULL OR i.text ILIKE $7)
    ORDER BY i.creation_time ASC, i.id ASC
    LIMIT $8
) i ON true
LEFT JOIN users u ON u.id = i.created_by
WHERE c.id = $1 AND c.customer_id = $2
ORDER BY i.creation_time ASC, i.id ASC
