-- add_ledger_lines --
-- Ledger interactions (Type 2) naming what changed, in order; the case's last modification follows them.
WITH touched AS (
    UPDATE cases SET last_modification_time = now(), last_modified_by = $2 WHERE id = $1 RETURNING id
)
INSERT INTO interactions (case_id, type, text, created_by)
SELECT touched.id, 2, l.text, $2
FROM touched, unnest($3::text[]) WITH ORDINALITY AS l (text, n)
ORDER BY l.n
