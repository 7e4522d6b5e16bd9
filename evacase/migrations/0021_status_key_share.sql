-- A status a case moves into is key-share-locked (the lock the move's foreign-key check takes on it anyway)
-- instead of share-locked: UpdateCaseStatus and DeleteCaseStatus lock the status FOR UPDATE before they change it
-- (lock_status), which waits for either mode, and a second lock mode on the one hot status row cost concurrent
-- moves 3-12% of their throughput (issue 13). PushCase's status lookup is the one in the schema.
CREATE OR REPLACE FUNCTION pushed_status(key text) RETURNS TABLE (id bigint, name text, is_closed boolean)
LANGUAGE sql VOLATILE
AS $$
    SELECT s.id, s.name, s.is_closed FROM case_statuses s
    WHERE lower(s.name) = lower(key) OR s.backend_id = key
    ORDER BY s.name = key DESC, lower(s.name) = lower(key) DESC, s.id
    LIMIT 1
    FOR KEY SHARE
$$;

UPDATE schema_version SET version = 21;
