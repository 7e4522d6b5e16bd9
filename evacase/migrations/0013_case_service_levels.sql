-- Each case's service level, kept by triggers in the same transaction as every change that affects it (the
-- case's priority, topic, unit, origin, status or reporting time; a public message), as the outbox is: the
-- first policy (by Position, then ID) whose conditions match applies; its targets become due times in its
-- calendar; a due time already past is flagged breached at once; time in a pausing status does not count toward
-- resolution; a closed case's clocks stop. The scheduler (jobs/service_levels.py) flags what falls due later,
-- from `next_check_at`, and recomputes open cases after a policy or calendar changed.

-- Where a case came from (issue 17 shows and sets it; the customer services set Web, PushCase Push) and its own
-- due date (seed 004: given on creation or later; otherwise the resolution due time stands for it).
ALTER TABLE cases ADD COLUMN origin text NOT NULL DEFAULT 'Api'
    CONSTRAINT cases_origin_valid CHECK (origin IN ('Web', 'Email', 'Voice', 'WhatsApp', 'Webchat', 'Api', 'Push'));
ALTER TABLE cases ADD COLUMN due_date timestamptz(3);

-- A status may stop the resolution clock while a case is in it (e.g. "Waiting for customer").
ALTER TABLE case_statuses ADD COLUMN pauses_service_level boolean NOT NULL DEFAULT false;

CREATE TABLE case_service_levels (
    case_id bigint PRIMARY KEY CONSTRAINT case_service_levels_case_fk REFERENCES cases (id) ON DELETE CASCADE,
    policy_id bigint CONSTRAINT case_service_levels_policy_fk
        REFERENCES service_level_policies (id) ON DELETE SET NULL,
    policy_name text,
    first_response_due timestamptz(3),
    first_response_time timestamptz(3),
    next_response_since timestamptz(3),  -- the oldest customer message not answered yet (after the first answer)
    next_response_due timestamptz(3),
    resolution_due timestamptz(3),
    paused_since timestamptz(3),
    paused_minutes numeric NOT NULL DEFAULT 0,  -- business minutes spent paused so far
    first_response_warned_at timestamptz(3),
    next_response_warned_at timestamptz(3),
    resolution_warned_at timestamptz(3),
    first_response_breached_at timestamptz(3),
    next_response_breached_at timestamptz(3),
    resolution_breached_at timestamptz(3),
    next_check_at timestamptz(3)  -- when the scheduler looks at the case next (a warning or a due time)
);
CREATE INDEX case_service_levels_check_idx ON case_service_levels (next_check_at) WHERE next_check_at IS NOT NULL;

-- A policy or calendar changed: the scheduler recomputes every open case, in batches from `after_case`.
CREATE TABLE service_level_rebuild (
    singleton boolean PRIMARY KEY DEFAULT true CONSTRAINT service_level_rebuild_singleton CHECK (singleton),
    requested_at timestamptz,
    after_case bigint NOT NULL DEFAULT 0
);
INSERT INTO service_level_rebuild DEFAULT VALUES;

CREATE FUNCTION request_service_level_rebuild() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE service_level_rebuild SET requested_at = clock_timestamp(), after_case = 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER service_level_policies_rebuild AFTER INSERT OR UPDATE OR DELETE ON service_level_policies
    FOR EACH STATEMENT EXECUTE FUNCTION request_service_level_rebuild();
CREATE TRIGGER service_level_calendars_rebuild AFTER UPDATE OR DELETE ON service_level_calendars
    FOR EACH STATEMENT EXECUTE FUNCTION request_service_level_rebuild();

-- The scheduler's clock: now, unless the session says otherwise (`SET evacase.clock`, for tests that let time
-- pass).
CREATE FUNCTION service_level_clock() RETURNS timestamptz
LANGUAGE sql STABLE
AS $$ SELECT coalesce(nullif(current_setting('evacase.clock', true), '')::timestamptz, now()) $$;

-- Recompute case `target`'s service level now (see the top of this file). Returns nothing; a case no policy
-- applies to, and that never had one, gets no row.
CREATE FUNCTION refresh_case_service_level(target bigint) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    c record;
    p service_level_policies;
    s case_service_levels;
    calendar bigint;
    open boolean;
    pausing boolean;
    warn timestamptz;
    checks timestamptz[] := '{}';
BEGIN
    SELECT x.id, x.priority, x.topic_id, x.assigned_organization_unit_id, x.origin, x.reporting_time,
           x.closing_time, st.is_closed, st.pauses_service_level
    INTO c
    FROM cases x JOIN case_statuses st ON st.id = x.status_id
    WHERE x.id = target;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT * INTO p FROM service_level_policies q
    WHERE (q.priorities IS NULL OR c.priority = ANY (q.priorities))
      AND (q.topic_ids IS NULL OR EXISTS (SELECT 1 FROM topic_ancestry(c.topic_id) a WHERE a.id = ANY (q.topic_ids)))
      AND (q.organization_unit_ids IS NULL OR c.assigned_organization_unit_id = ANY (q.organization_unit_ids))
      AND (q.origins IS NULL OR c.origin = ANY (q.origins))
    ORDER BY q.position, q.id
    LIMIT 1;
    IF p.id IS NULL AND NOT EXISTS (SELECT 1 FROM case_service_levels WHERE case_id = target) THEN
        RETURN;
    END IF;
    INSERT INTO case_service_levels (case_id) VALUES (target) ON CONFLICT (case_id) DO NOTHING;
    SELECT * INTO s FROM case_service_levels WHERE case_id = target FOR UPDATE;

    calendar := p.calendar_id;
    open := NOT c.is_closed;
    pausing := open AND c.pauses_service_level;
    IF pausing AND s.paused_since IS NULL THEN
        s.paused_since := service_level_clock();
    ELSIF NOT pausing AND s.paused_since IS NOT NULL THEN
        s.paused_minutes := s.paused_minutes + business_minutes(calendar, s.paused_since, service_level_clock());
        s.paused_since := NULL;
    END IF;

    s.policy_id := p.id;
    s.policy_name := p.name;
    s.first_response_due := business_add(calendar, c.reporting_time, p.first_response_minutes);
    s.next_response_due := business_add(calendar, s.next_response_since, p.next_response_minutes);
    s.resolution_due := CASE WHEN s.paused_since IS NULL
                             THEN business_add(calendar, c.reporting_time, p.resolution_minutes + s.paused_minutes)
                        END;

    -- Breaches: a due time passed while its target was pending, flagged once.
    IF s.first_response_breached_at IS NULL AND s.first_response_due IS NOT NULL
       AND (s.first_response_time > s.first_response_due
            OR s.first_response_time IS NULL AND open AND s.first_response_due <= service_level_clock()) THEN
        s.first_response_breached_at := service_level_clock();
    END IF;
    IF s.next_response_breached_at IS NULL AND open AND s.next_response_due <= service_level_clock() THEN
        s.next_response_breached_at := service_level_clock();
    END IF;
    IF s.resolution_breached_at IS NULL AND s.resolution_due IS NOT NULL
       AND (c.closing_time > s.resolution_due OR open AND s.resolution_due <= service_level_clock()) THEN
        s.resolution_breached_at := service_level_clock();
    END IF;

    -- Warnings at WarningPercent of each pending target, flagged once; and when to look again.
    IF open AND s.first_response_time IS NULL AND s.first_response_due IS NOT NULL
       AND s.first_response_breached_at IS NULL THEN
        warn := business_add(calendar, c.reporting_time, p.first_response_minutes * p.warning_percent / 100.0);
        IF s.first_response_warned_at IS NULL AND warn <= service_level_clock() THEN
            s.first_response_warned_at := service_level_clock();
        END IF;
        checks := checks || CASE WHEN s.first_response_warned_at IS NULL THEN warn ELSE s.first_response_due END;
    END IF;
    IF open AND s.next_response_due IS NOT NULL AND s.next_response_breached_at IS NULL THEN
        warn := business_add(calendar, s.next_response_since, p.next_response_minutes * p.warning_percent / 100.0);
        IF s.next_response_warned_at IS NULL AND warn <= service_level_clock() THEN
            s.next_response_warned_at := service_level_clock();
        END IF;
        checks := checks || CASE WHEN s.next_response_warned_at IS NULL THEN warn ELSE s.next_response_due END;
    END IF;
    IF open AND s.resolution_due IS NOT NULL AND s.resolution_breached_at IS NULL THEN
        warn := business_add(calendar, c.reporting_time,
                             (p.resolution_minutes * p.warning_percent / 100.0) + s.paused_minutes);
        IF s.resolution_warned_at IS NULL AND warn <= service_level_clock() THEN
            s.resolution_warned_at := service_level_clock();
        END IF;
        checks := checks || CASE WHEN s.resolution_warned_at IS NULL THEN warn ELSE s.resolution_due END;
    END IF;
    s.next_check_at := (SELECT min(x) FROM unnest(checks) AS x);

    UPDATE case_service_levels
    SET policy_id = s.policy_id, policy_name = s.policy_name, first_response_due = s.first_response_due,
        next_response_due = s.next_response_due, resolution_due = s.resolution_due, paused_since = s.paused_since,
        paused_minutes = s.paused_minutes, first_response_warned_at = s.first_response_warned_at,
        next_response_warned_at = s.next_response_warned_at, resolution_warned_at = s.resolution_warned_at,
        first_response_breached_at = s.first_response_breached_at,
        next_response_breached_at = s.next_response_breached_at,
        resolution_breached_at = s.resolution_breached_at, next_check_at = s.next_check_at
    WHERE case_id = target;
END
$$;

-- Whether a case is at risk: a pending target past its warning and not yet breached.
CREATE FUNCTION service_level_at_risk(s case_service_levels, is_closed boolean) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$
    SELECT NOT is_closed AND (
        s.first_response_warned_at IS NOT NULL AND s.first_response_time IS NULL
            AND s.first_response_breached_at IS NULL
        OR s.next_response_warned_at IS NOT NULL AND s.next_response_since IS NOT NULL
            AND s.next_response_breached_at IS NULL
        OR s.resolution_warned_at IS NOT NULL AND s.resolution_breached_at IS NULL
    )
$$;

CREATE FUNCTION cases_refresh_service_level() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM service_level_policies)
       OR EXISTS (SELECT 1 FROM case_service_levels WHERE case_id = NEW.id) THEN
        PERFORM refresh_case_service_level(NEW.id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER cases_service_level_created AFTER INSERT ON cases FOR EACH ROW
    EXECUTE FUNCTION cases_refresh_service_level();
CREATE TRIGGER cases_service_level_changed AFTER UPDATE ON cases FOR EACH ROW
    WHEN ((OLD.priority, OLD.topic_id, OLD.assigned_organization_unit_id, OLD.origin, OLD.status_id,
           OLD.reporting_time, OLD.closing_time)
          IS DISTINCT FROM
          (NEW.priority, NEW.topic_id, NEW.assigned_organization_unit_id, NEW.origin, NEW.status_id,
           NEW.reporting_time, NEW.closing_time))
    EXECUTE FUNCTION cases_refresh_service_level();

-- A public message (Communication or Email): the first answer by staff is the first response and answers any
-- waiting customer message; a customer's message after the first response starts the next-response clock.
CREATE FUNCTION interactions_track_responses() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    by_staff boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM service_level_policies)
       AND NOT EXISTS (SELECT 1 FROM case_service_levels WHERE case_id = NEW.case_id) THEN
        RETURN NULL;
    END IF;
    by_staff := coalesce((SELECT u.user_type & 2 = 0 FROM users u WHERE u.id = NEW.created_by), true);
    PERFORM refresh_case_service_level(NEW.case_id);  -- makes sure the row exists when a policy applies
    IF by_staff THEN
        UPDATE case_service_levels
        SET first_response_time = coalesce(first_response_time, NEW.creation_time), next_response_since = NULL
        WHERE case_id = NEW.case_id;
    ELSE
        UPDATE case_service_levels
        SET next_response_since = NEW.creation_time, next_response_warned_at = NULL,
            next_response_breached_at = NULL
        WHERE case_id = NEW.case_id AND first_response_time IS NOT NULL AND next_response_since IS NULL;
    END IF;
    PERFORM refresh_case_service_level(NEW.case_id);
    RETURN NULL;
END
$$;

CREATE TRIGGER interactions_service_level_responses AFTER INSERT ON interactions FOR EACH ROW
    WHEN (NEW.type IN (0, 3))
    EXECUTE FUNCTION interactions_track_responses();

-- The event trigger watches every column of cases but the last interaction time: the two new ones too.
DROP TRIGGER cases_changed_event ON cases;
CREATE TRIGGER cases_changed_event AFTER UPDATE ON cases FOR EACH ROW
    WHEN ((OLD.customer_id, OLD.topic_id, OLD.status_id, OLD.priority, OLD.title, OLD.description, OLD.order_id,
           OLD.summary, OLD.summary_last_modification_time, OLD.summary_last_modified_by, OLD.solution,
           OLD.is_warranty, OLD.is_archived, OLD.backend_system_id, OLD.backend_id, OLD.assignee_id,
           OLD.assigned_on, OLD.assigned_organization_unit_id, OLD.originating_organization_unit_id,
           OLD.reporting_time, OLD.closing_time, OLD.creation_time, OLD.created_by, OLD.last_modification_time,
           OLD.last_modified_by, OLD.external_order_identifier, OLD.origin, OLD.due_date)
          IS DISTINCT FROM
          (NEW.customer_id, NEW.topic_id, NEW.status_id, NEW.priority, NEW.title, NEW.description, NEW.order_id,
           NEW.summary, NEW.summary_last_modification_time, NEW.summary_last_modified_by, NEW.solution,
           NEW.is_warranty, NEW.is_archived, NEW.backend_system_id, NEW.backend_id, NEW.assignee_id,
           NEW.assigned_on, NEW.assigned_organization_unit_id, NEW.originating_organization_unit_id,
           NEW.reporting_time, NEW.closing_time, NEW.creation_time, NEW.created_by, NEW.last_modification_time,
           NEW.last_modified_by, NEW.external_order_identifier, NEW.origin, NEW.due_date))
    EXECUTE FUNCTION cases_record_event();

UPDATE schema_version SET version = 13;
