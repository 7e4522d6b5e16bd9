-- The seam of every case change, in SQL: the ledger lines (Interactions of Type 2) naming what changed, written
-- in order by `actor`. Statements that change a case call it in the same statement as the change (the event
-- outbox joins here); the statement itself stamps the case's last modification.
CREATE FUNCTION record_case_change(case_id bigint, actor bigint, lines text[]) RETURNS integer
LANGUAGE sql VOLATILE
AS $$
    WITH written AS (
        INSERT INTO interactions (case_id, type, text, created_by)
        SELECT record_case_change.case_id, 2, l.text, record_case_change.actor
        FROM unnest(record_case_change.lines) WITH ORDINALITY AS l (text, n)
        ORDER BY l.n
        RETURNING 1
    )
    SELECT count(*)::integer FROM written
$$;

UPDATE schema_version SET version = 8;
