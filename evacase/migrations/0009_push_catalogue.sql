-- What PushCase reads on every call and an admin rarely changes (the custom field definitions of cases, the
-- push settings) is kept per process while this version is unchanged: every committed change to those tables
-- raises it. The trigger is deferred to the commit, so a change takes the version row's lock last, while
-- committing, and never waits for it holding a lock another transaction needs.
CREATE TABLE catalogue_version (
    singleton boolean PRIMARY KEY DEFAULT true CONSTRAINT catalogue_version_singleton CHECK (singleton),
    version bigint NOT NULL
);
INSERT INTO catalogue_version (version) VALUES (1);

CREATE FUNCTION raise_catalogue_version() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE catalogue_version SET version = version + 1;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER custom_fields_raise_catalogue_version AFTER INSERT OR UPDATE OR DELETE ON custom_fields
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION raise_catalogue_version();
CREATE CONSTRAINT TRIGGER settings_raise_catalogue_version AFTER INSERT OR UPDATE OR DELETE ON settings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION raise_catalogue_version();

-- PushCase's lookups, each one SQL function that both its statements (sql/push.sql, sql/customers.sql) and
-- push_reads call.
-- The live topic with BackendID `key` (the oldest, should several share it), with its display path.
CREATE FUNCTION pushed_topic_by_backend_id(key text) RETURNS TABLE (id bigint, name text, path text)
LANGUAGE sql STABLE
AS $$
    SELECT t.id, t.name, topic_path(t.id) FROM case_topics t
    WHERE t.backend_id = key AND NOT t.is_deleted
    ORDER BY t.id
    LIMIT 1
$$;

-- The status named `key` (exactly, else case-insensitively), else the one with BackendID `key`; share-locked, as a
-- status a case moves into (a concurrent UpdateCaseStatus of IsClosed or DeleteCaseStatus waits for the push).
CREATE FUNCTION pushed_status(key text) RETURNS TABLE (id bigint, name text, is_closed boolean)
LANGUAGE sql VOLATILE
AS $$
    SELECT s.id, s.name, s.is_closed FROM case_statuses s
    WHERE lower(s.name) = lower(key) OR s.backend_id = key
    ORDER BY s.name = key DESC, lower(s.name) = lower(key) DESC, s.id
    LIMIT 1
    FOR SHARE
$$;

-- The customer with BackendID `key`: a pushed one first, else a token holder (a customer user) with that claim.
CREATE FUNCTION customer_by_backend_id(key text) RETURNS TABLE (id bigint, is_pushed boolean, backend_id text)
LANGUAGE sql STABLE
AS $$
    SELECT u.id, u.is_pushed, u.backend_id FROM users u
    WHERE u.backend_id = key AND u.user_type & 2 <> 0
    ORDER BY u.is_pushed DESC, u.id
    LIMIT 1
$$;

-- A push's locks and what it reads under them, in one call. Locks first, in this order: the case identity's
-- (pushes of one case run one after the other), the pushed customer's keys (`backend:<BackendID>`,
-- `email:<address>`, in the order given), the case's row (`known_case_id`, else the case the identity names).
-- Then each read in a statement of its own (a fresh snapshot: it sees whatever the lock holders committed): the
-- identity's case, the locked case (`visible`: whether a caller limited to `units` may see it; null for all), the
-- catalogue version, and the lookups of a push's usual form (null keys are not looked up): the topic by
-- BackendID, the status by name (share-locked), the customer by BackendID (with its stored profile, so an
-- unchanged one is not written again).
CREATE FUNCTION push_reads(
    system_id text, backend_id text, customer_keys text[], known_case_id bigint, units bigint[],
    topic_key text, status_key text, customer_key text,
    OUT identity_case_id bigint, OUT locked cases, OUT visible boolean, OUT catalogue_version bigint,
    OUT topic_id bigint, OUT topic_path text,
    OUT status_id bigint, OUT status_name text, OUT status_is_closed boolean,
    OUT customer_id bigint, OUT customer_is_pushed boolean, OUT customer_backend_id text,
    OUT customer_profile jsonb)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    key text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('evacase.push' || chr(31) || system_id || chr(31) || backend_id, 0));
    FOREACH key IN ARRAY customer_keys LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended('evacase.customer' || chr(31) || key, 0));
    END LOOP;
    SELECT c.id INTO identity_case_id
    FROM cases c
    WHERE coalesce(c.backend_system_id, '') = push_reads.system_id AND c.backend_id = push_reads.backend_id;
    PERFORM 1 FROM cases c WHERE c.id = coalesce(known_case_id, identity_case_id) FOR UPDATE;
    SELECT c.* INTO locked FROM cases c WHERE c.id = coalesce(known_case_id, identity_case_id);
    visible := visible_to_units(locked.assigned_organization_unit_id, units);
    SELECT v.version INTO catalogue_version FROM catalogue_version v;
    IF topic_key IS NOT NULL THEN
        SELECT t.id, t.path INTO topic_id, topic_path FROM pushed_topic_by_backend_id(topic_key) t;
    END IF;
    IF status_key IS NOT NULL THEN
        SELECT s.id, s.name, s.is_closed INTO status_id, status_name, status_is_closed FROM pushed_status(status_key) s;
    END IF;
    IF customer_key IS NOT NULL THEN
        SELECT u.id, u.is_pushed, u.backend_id INTO customer_id, customer_is_pushed, customer_backend_id
        FROM customer_by_backend_id(customer_key) u;
        SELECT to_jsonb(p) INTO customer_profile FROM customer_profiles p WHERE p.user_id = customer_id;
    END IF;
END
$$;

UPDATE schema_version SET version = 9;
