-- A token holder's e-mail address counts for PushCase's customer lookup only when the token said it was verified
-- (`email_verified: true`), unless the operator trusts unverified addresses (PushCases:MatchUnverifiedEmail).
ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;

-- The invariant "a case is in a closed status exactly when it has a ClosingTime", kept by the database itself
-- whatever a handler does. The services order their locks so that these never fire (a case moving into a status
-- share-locks it; a status changing IsClosed locks it, then looks for cases); they are the last guard.
CREATE FUNCTION cases_check_closing_time() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    closed boolean;
BEGIN
    SELECT s.is_closed INTO closed FROM case_statuses s WHERE s.id = NEW.status_id;
    -- No such status: the foreign key cases_status_fk says so.
    IF FOUND AND closed <> (NEW.closing_time IS NOT NULL) THEN
        RAISE EXCEPTION 'case % would be in status % with closing time %', NEW.id, NEW.status_id, NEW.closing_time
            USING ERRCODE = 'check_violation', CONSTRAINT = 'cases_closing_time_matches_status';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER cases_closing_time_matches_status BEFORE INSERT OR UPDATE OF status_id, closing_time ON cases
    FOR EACH ROW EXECUTE FUNCTION cases_check_closing_time();

CREATE FUNCTION case_statuses_check_closed_in_use() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM cases c WHERE c.status_id = NEW.id) THEN
        RAISE EXCEPTION 'case status % is in use: IsClosed cannot change', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'case_statuses_is_closed_fixed_while_in_use';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER case_statuses_is_closed_fixed_while_in_use BEFORE UPDATE OF is_closed ON case_statuses
    FOR EACH ROW WHEN (OLD.is_closed IS DISTINCT FROM NEW.is_closed)
    EXECUTE FUNCTION case_statuses_check_closed_in_use();

-- Whether a case in organization unit `unit` is visible to a caller limited to the units `units` (null: no limit);
-- a case without a unit is visible to everyone. Plain SQL, so the planner inlines it into each query.
CREATE FUNCTION visible_to_units(unit bigint, units bigint[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT units IS NULL OR unit IS NULL OR unit = ANY (units) $$;

-- Idempotency-Key: the first answer to a writing request, per caller (the token's `sub`) and key, stored in the
-- transaction of its effect; a retry within the lifetime replays it. A row without an answer yet belongs to a
-- request still running (its transaction holds the row: a concurrent retry waits for it).
CREATE TABLE idempotency_keys (
    user_id bigint NOT NULL,
    key text NOT NULL CONSTRAINT idempotency_keys_key_length CHECK (char_length(key) BETWEEN 1 AND 255),
    service text NOT NULL,
    request_hash bytea NOT NULL,
    status integer,
    body bytea,
    creation_time timestamptz(3) NOT NULL DEFAULT now(),
    expires_at timestamptz(3) NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key)
);
-- The purge job deletes expired keys in batches, oldest first.
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

-- evacase itself, the author of what background jobs change (auth.SYSTEM_USER_ID: above every token subject,
-- below every pushed customer).
INSERT INTO users (id, user_type, first_name) VALUES (1000000000000000, 17, 'evacase');

UPDATE schema_version SET version = 5;
