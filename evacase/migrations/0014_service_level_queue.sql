-- The agents' queue: each open case's next due time (a pending service-level target, or the case's own due
-- date), kept by refresh_case_service_level, which now also keeps a row for a case with a due date of its own.
ALTER TABLE case_service_levels ADD COLUMN next_due_at timestamptz(3);
CREATE INDEX case_service_levels_queue_idx ON case_service_levels (next_due_at, case_id) WHERE next_due_at IS NOT NULL;

CREATE OR REPLACE FUNCTION refresh_case_service_level(target bigint) RETURNS void
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
           x.closing_time, x.due_date, st.is_closed, st.pauses_service_level
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
    IF p.id IS NULL AND c.due_date IS NULL
       AND NOT EXISTS (SELECT 1 FROM case_service_levels WHERE case_id = target) THEN
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
    -- The queue's order: what is due next while the case is open (a pending target, or the case's own due date).
    s.next_due_at := CASE WHEN open THEN least(
        CASE WHEN s.first_response_time IS NULL THEN s.first_response_due END, s.next_response_due, s.resolution_due,
        c.due_date) END;

    UPDATE case_service_levels
    SET policy_id = s.policy_id, policy_name = s.policy_name, first_response_due = s.first_response_due,
        next_response_due = s.next_response_due, resolution_due = s.resolution_due, paused_since = s.paused_since,
        paused_minutes = s.paused_minutes, first_response_warned_at = s.first_response_warned_at,
        next_response_warned_at = s.next_response_warned_at, resolution_warned_at = s.resolution_warned_at,
        first_response_breached_at = s.first_response_breached_at,
        next_response_breached_at = s.next_response_breached_at,
        resolution_breached_at = s.resolution_breached_at, next_check_at = s.next_check_at,
        next_due_at = s.next_due_at
    WHERE case_id = target;
END
$$;

DROP TRIGGER cases_service_level_changed ON cases;
CREATE TRIGGER cases_service_level_changed AFTER UPDATE ON cases FOR EACH ROW
    WHEN ((OLD.priority, OLD.topic_id, OLD.assigned_organization_unit_id, OLD.origin, OLD.status_id,
           OLD.reporting_time, OLD.closing_time, OLD.due_date)
          IS DISTINCT FROM
          (NEW.priority, NEW.topic_id, NEW.assigned_organization_unit_id, NEW.origin, NEW.status_id,
           NEW.reporting_time, NEW.closing_time, NEW.due_date))
    EXECUTE FUNCTION cases_refresh_service_level();

CREATE OR REPLACE FUNCTION cases_refresh_service_level() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.due_date IS NOT NULL OR EXISTS (SELECT 1 FROM service_level_policies)
       OR EXISTS (SELECT 1 FROM case_service_levels WHERE case_id = NEW.id) THEN
        PERFORM refresh_case_service_level(NEW.id);
    END IF;
    RETURN NULL;
END
$$;

UPDATE schema_version SET version = 14;
