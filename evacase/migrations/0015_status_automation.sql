-- Status behaviour: a status may close its cases automatically after some hours in it without a customer reply
-- (into AutoCloseStatusID, Completed by default), and a customer's reply moves a case out of a status into its
-- ReopenStatusID (InProgress by default for a status that auto-closes). `status_since` is when a case entered its
-- status (null for cases older than this migration: their last modification stands in for it).
ALTER TABLE case_statuses
    ADD COLUMN auto_close_after_hours numeric CONSTRAINT case_statuses_auto_close_after_hours_valid
        CHECK (auto_close_after_hours > 0 AND auto_close_after_hours <= 87600),
    ADD COLUMN auto_close_status_id bigint CONSTRAINT case_statuses_auto_close_status_fk REFERENCES case_statuses (id),
    ADD COLUMN reopen_status_id bigint CONSTRAINT case_statuses_reopen_status_fk REFERENCES case_statuses (id);

ALTER TABLE cases ADD COLUMN status_since timestamptz(3);
-- The auto-close job finds a status's cases that have been in it longest.
CREATE INDEX cases_status_since_idx ON cases (status_id, status_since);

CREATE FUNCTION cases_stamp_status_since() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status_id IS DISTINCT FROM OLD.status_id THEN
        NEW.status_since := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER cases_status_since BEFORE INSERT OR UPDATE OF status_id ON cases
    FOR EACH ROW EXECUTE FUNCTION cases_stamp_status_since();

-- A customer's Communication on a case whose status reopens on a reply: the case moves into that status, with
-- its ledger line, in the message's own transaction.
CREATE FUNCTION interactions_reopen_on_reply() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    target bigint;
    from_name text;
    to_name text;
    to_closed boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM case_statuses WHERE reopen_status_id IS NOT NULL OR auto_close_after_hours IS NOT NULL)
       OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = NEW.created_by AND u.user_type & 2 <> 0) THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(st.reopen_status_id, CASE WHEN st.auto_close_after_hours IS NOT NULL THEN 2 END), st.name
    INTO target, from_name
    FROM cases c JOIN case_statuses st ON st.id = c.status_id
    WHERE c.id = NEW.case_id;
    IF target IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT name, is_closed INTO to_name, to_closed FROM case_statuses WHERE id = target;
    UPDATE cases
    SET status_id = target, closing_time = CASE WHEN to_closed THEN coalesce(closing_time, now()) END,
        last_modification_time = now(), last_modified_by = NEW.created_by
    WHERE id = NEW.case_id AND status_id <> target;
    IF FOUND THEN
        PERFORM record_case_change(NEW.case_id, NEW.created_by,
                                   ARRAY[format('Case status set to `%s` by the customer''s reply (was `%s`)',
                                                to_name, from_name)]);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER interactions_reopen_on_reply AFTER INSERT ON interactions FOR EACH ROW WHEN (NEW.type = 0)
    EXECUTE FUNCTION interactions_reopen_on_reply();

UPDATE schema_version SET version = 15;
