-- list_topics_after --
-- A page of topics in list order (highest ID first), after the keyset bound $1. Filters: $2 name contains,
-- $3 description contains (both case-insensitive LIKE patterns), $4 parent, $5 root only.
-- params: bound_id, name, description, parent_id, root_only, limit
SELECT t.id, t.parent_id, t.name, t.description, t.backend_id, topic_path(t.id) AS display_name
FROM case_topics t
WHERE NOT t.is_deleted
  AND t.id < $1
  AND ($2::text IS NULL OR t.name ILIKE $2)
  AND ($3::text IS NULL OR t.description ILIKE $3)
  AND ($4::bigint IS NULL OR t.parent_id = $4)
  AND (NOT $5::boolean OR t.parent_id IS NULL)
ORDER BY t.id DESC
LIMIT $6

-- list_topics_before --
-- The same list, the rows before the keyset bound $1 (read backwards; the caller reverses them).
-- params: bound_id, name, description, parent_id, root_only, limit
SELECT t.id, t.parent_id, t.name, t.description, t.backend_id, topic_path(t.id) AS display_name
FROM case_topics t
WHERE NOT t.is_deleted
  AND t.id > $1
  AND ($2::text IS NULL OR t.name ILIKE $2)
  AND ($3::text IS NULL OR t.description ILIKE $3)
  AND ($4::bigint IS NULL OR t.parent_id = $4)
  AND (NOT $5::boolean OR t.parent_id IS NULL)
ORDER BY t.id ASC
LIMIT $6

-- create_topic --
-- A new topic under parent $2 (none: a root topic), written only when the parent is a live topic less than
-- MAX_DEPTH ($5) levels deep. A name its siblings have violates case_topics_sibling_name_unique.
-- params: name, parent_id, description, backend_id, max_depth
WITH parent AS (
    SELECT p.id, (SELECT max(a.depth) FROM topic_ancestry(p.id) a) AS depth
    FROM case_topics p
    WHERE p.id = $2 AND NOT p.is_deleted
), new_topic AS (
    INSERT INTO case_topics (parent_id, name, description, backend_id)
    SELECT $2, $1, $3, $4
    WHERE $2::bigint IS NULL OR EXISTS (SELECT 1 FROM parent WHERE parent.depth < $5 - 1)
    RETURNING id
)
SELECT (SELECT id FROM new_topic) AS id,
       $2::bigint IS NULL OR EXISTS (SELECT 1 FROM parent) AS parent_ok

-- get_topic --
-- One live topic with its display path.
SELECT t.id, t.parent_id, t.name, t.description, t.backend_id, topic_path(t.id) AS display_name
FROM case_topics t
WHERE t.id = $1 AND NOT t.is_deleted

-- update_topic --
-- Name ($2, null keeps it), description ($4 when $3) and backend ID ($6 when $5) of a live topic.
-- params: topic_id, name, set_description, description, set_backend_id, backend_id
UPDATE case_topics
SET name = coalesce($2, name),
    description = CASE WHEN $3 THEN $4 ELSE description END,
    backend_id = CASE WHEN $5 THEN $6 ELSE backend_id END
WHERE id = $1 AND NOT is_deleted
RETURNING id

-- delete_topic --
-- Soft-delete a live topic and every live topic below it; cases keep pointing at them.
WITH RECURSIVE below AS (
    SELECT id FROM case_topics WHERE id = $1 AND NOT is_deleted
    UNION ALL
    SELECT t.id FROM case_topics t JOIN below ON t.parent_id = below.id
    WHERE NOT t.is_deleted
)
UPDATE case_topics SET is_deleted = true
WHERE id IN (SELECT id FROM below)
RETURNING id
