-- add_tags --
-- Tags $2 (normalised, distinct) on case $1 by $3; those it has stay. How many were added, and how many it had.
WITH added AS (
    INSERT INTO case_tags (case_id, tag, created_by)
    SELECT $1, t.tag, $3 FROM unnest($2::text[]) AS t (tag)
    ON CONFLICT (case_id, tag) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM added) AS added, (SELECT count(*) FROM case_tags WHERE case_id = $1) AS stored_before

-- remove_tags --
-- Tags $2 removed from case $1: how many it had.
WITH removed AS (
    DELETE FROM case_tags WHERE case_id = $1 AND tag = ANY ($2::text[]) RETURNING 1
)
SELECT count(*) FROM removed
