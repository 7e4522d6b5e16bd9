-- link_cases --
-- Case $1 linked to case $2 as $3 (DuplicateOf, FollowUpOf: $1 is the duplicate, the follow-up) by $4; a link
-- the pair already has (either way round) takes this direction and type.
INSERT INTO case_links AS l (case_id, linked_case_id, type, created_by)
VALUES ($1, $2, $3, $4)
ON CONFLICT ((least(case_id, linked_case_id)), (greatest(case_id, linked_case_id))) DO UPDATE
SET case_id = excluded.case_id, linked_case_id = excluded.linked_case_id, type = excluded.type,
    created_by = excluded.created_by, creation_time = now()

-- unlink_cases --
-- The link between cases $1 and $2 (either way round) removed: how many there were.
WITH removed AS (
    DELETE FROM case_links
    WHERE least(case_id, linked_case_id) = least($1::bigint, $2::bigint)
      AND greatest(case_id, linked_case_id) = greatest($1::bigint, $2::bigint)
    RETURNING 1
)
SELECT count(*) FROM removed

-- status_closes --
-- Whether status $1 closes its cases (no row: there is no such status).
SELECT is_closed FROM case_statuses WHERE id = $1

-- linked_cases --
-- The cases linked to case $1 that viewer $2 may see (a customer's view, $3: only that customer's cases), oldest
-- link first, each with the link's type as seen from case $1 (the other side of DuplicateOf is HasDuplicate, of
-- FollowUpOf HasFollowUp).
SELECT k.id, x.type, k.title, k.status_id, s.name AS status_name, s.is_closed
FROM (
    SELECT l.linked_case_id AS id, l.type, l.creation_time FROM case_links l WHERE l.case_id = $1
    UNION ALL
    SELECT l.case_id, CASE l.type WHEN 'DuplicateOf' THEN 'HasDuplicate' WHEN 'FollowUpOf' THEN 'HasFollowUp'
                                  ELSE l.type END,
           l.creation_time
    FROM case_links l WHERE l.linked_case_id = $1
) AS x
JOIN cases k ON k.id = x.id
JOIN case_statuses s ON s.id = k.status_id
WHERE case_visible(k.assigned_organization_unit_id, k.assignee_id, k.created_by, $2)
  AND ($3::bigint IS NULL OR k.customer_id = $3)
ORDER BY x.creation_time, k.id
