-- create_interaction --
-- A customer's Communication interaction on case $1; the case's last interaction time follows it.
WITH ins AS (
    INSERT INTO interactions (case_id, type, text, created_by) VALUES ($1, 0, $2, $3)
    RETURNING id, creation_time
), touched AS (
    UPDATE cases SET last_interaction_time = (SELECT creation_time FROM ins) WHERE id = $1
)
SELECT id FROM ins

-- get_interaction --
-- One interaction of a type in $3, on a case of the customer $2.
SELECT i.id, i.case_id, i.type, i.text, i.created_by, i.creation_time, i.last_modification_time, s.is_closed
FROM interactions i
JOIN cases c ON c.id = i.case_id
JOIN case_statuses s ON s.id = c.status_id
WHERE i.id = $1 AND c.customer_id = $2 AND i.type = ANY ($3::integer[])

-- update_interaction_text --
-- New text for an interaction.
UPDATE interactions SET text = $2, last_modification_time = now() WHERE id = $1

-- delete_interaction --
-- Remove an interaction (its blob references go with it).
DELETE FROM interactions WHERE id = $1

-- list_interactions_after --
-- Whether case $1 belongs to customer $2 (no row: it does not) and a page of its interactions of a type in
-- $3, newest first, after the keyset bound ($4, $5); filters $6 ID, $7 text contains. The page is taken
-- from the index first and only its rows are joined to their authors: a case with thousands of interactions
-- costs what a quiet one does.
SELECT s.is_closed, i.id, i.type, i.text, i.created_by, i.creation_time, i.last_modification_time,
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

-- list_interactions_before --
-- The same list, the rows before the keyset bound (read backwards; the caller reverses them).
SELECT s.is_closed, i.id, i.type, i.text, i.created_by, i.creation_time, i.last_modification_time,
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
