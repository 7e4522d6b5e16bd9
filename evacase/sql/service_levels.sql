-- create_calendar --
-- A new business-hours calendar.
-- params: name, time_zone, business_hours, opening, holidays
INSERT INTO service_level_calendars (name, time_zone, business_hours, opening, holidays)
VALUES ($1, $2, $3::jsonb, $4::jsonb, $5)
RETURNING id

-- lock_calendar --
-- One calendar, locked for a change.
SELECT * FROM service_level_calendars WHERE id = $1 FOR UPDATE

-- update_calendar --
-- A calendar's fields as merged by the handler.
-- params: id, name, time_zone, business_hours, opening, holidays
UPDATE service_level_calendars
SET name = $2, time_zone = $3, business_hours = $4::jsonb, opening = $5::jsonb, holidays = $6,
    last_modification_time = now()
WHERE id = $1

-- delete_calendar --
-- Remove a calendar no policy uses (a policy's foreign key refuses the rest: service_level_policies_calendar_fk).
DELETE FROM service_level_calendars WHERE id = $1 RETURNING id

-- get_calendar --
-- One calendar.
SELECT * FROM service_level_calendars WHERE id = $1

-- list_calendars_after --
-- A page of calendars, highest ID first, after the keyset bound $1.
-- params: bound_id, limit
SELECT * FROM service_level_calendars WHERE id < $1 ORDER BY id DESC LIMIT $2

-- list_calendars_before --
-- The same list, the rows before the keyset bound (read backwards; the caller reverses them).
-- params: bound_id, limit
SELECT * FROM service_level_calendars WHERE id > $1 ORDER BY id ASC LIMIT $2

-- create_policy --
-- A new service-level policy (a calendar that does not exist violates service_level_policies_calendar_fk).
-- params: name, position, calendar_id, priorities, topic_ids, organization_unit_ids, origins,
-- params: first_response_minutes, next_response_minutes, resolution_minutes, warning_percent
INSERT INTO service_level_policies (name, position, calendar_id, priorities, topic_ids, organization_unit_ids, origins,
                                    first_response_minutes, next_response_minutes, resolution_minutes,
                                    warning_percent)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING id

-- lock_policy --
-- One policy, locked for a change.
SELECT * FROM service_level_policies WHERE id = $1 FOR UPDATE

-- update_policy --
-- A policy's fields as merged by the handler.
-- params: id, name, position, calendar_id, priorities, topic_ids, organization_unit_ids, origins,
-- params: first_response_minutes, next_response_minutes, resolution_minutes, warning_percent
UPDATE service_level_policies
SET name = $2, position = $3, calendar_id = $4, priorities = $5, topic_ids = $6, organization_unit_ids = $7,
    origins = $8, first_response_minutes = $9, next_response_minutes = $10, resolution_minutes = $11,
    warning_percent = $12, last_modification_time = now()
WHERE id = $1

-- delete_policy --
-- Remove a policy (cases it applied to keep their due times until they are next recomputed).
DELETE FROM service_level_policies WHERE id = $1 RETURNING id

-- get_policy --
-- One policy.
SELECT * FROM service_level_policies WHERE id = $1

-- list_policies_after --
-- A page of policies in the order they apply (Position, then ID), after the keyset bound ($1, $2).
-- params: position, policy_id, limit
SELECT * FROM service_level_policies WHERE (position, id) > ($1, $2) ORDER BY position, id LIMIT $3

-- list_policies_before --
-- The same list, the rows before the keyset bound (read backwards; the caller reverses them).
-- params: position, policy_id, limit
SELECT * FROM service_level_policies WHERE (position, id) < ($1, $2) ORDER BY position DESC, id DESC LIMIT $3

-- check_due --
-- The scheduler's step: the service levels whose next check (a warning or a due time) has come, a batch of $1,
-- each recomputed now (refresh_case_service_level flags what passed, once, and sets the next check). SKIP
-- LOCKED: a case a request is changing right now is looked at next time.
WITH due AS (
    SELECT case_id FROM case_service_levels
    WHERE next_check_at <= service_level_clock()
    ORDER BY next_check_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
SELECT count(*)::integer FROM (SELECT refresh_case_service_level(due.case_id) FROM due) AS refreshed

-- rebuild_batch --
-- After a policy or calendar changed: the next $1 open cases (by ID, after the rebuild's cursor) recomputed and
-- the cursor moved past them; a short batch ends the rebuild. Holding the rebuild row's lock, so a policy change
-- meanwhile waits and then starts the rebuild over. The number of cases recomputed (null: nothing to rebuild).
WITH r AS (
    SELECT requested_at, after_case FROM service_level_rebuild WHERE requested_at IS NOT NULL FOR UPDATE
), batch AS (
    SELECT c.id FROM cases c JOIN case_statuses s ON s.id = c.status_id, r
    WHERE c.id > r.after_case AND NOT s.is_closed
    ORDER BY c.id
    LIMIT $1
), done AS (
    SELECT count(*)::integer AS n, max(b.id) AS last
    FROM (SELECT batch.id, refresh_case_service_level(batch.id) FROM batch) AS b
)
UPDATE service_level_rebuild
SET after_case = coalesce(done.last, service_level_rebuild.after_case),
    requested_at = CASE WHEN done.n < $1 THEN NULL ELSE service_level_rebuild.requested_at END
FROM done, r
RETURNING done.n

-- auto_close_batch --
-- Cases that have been in a status with AutoCloseAfterHours for that long (by the scheduler's clock; since they
-- entered it, or their last modification for cases from before status_since was kept), a batch of $1: moved into
-- the status's AutoCloseStatusID (Completed by default) by evacase ($2), with their ledger line ("Case status set
-- to `Completed` automatically after 72 hours in `Resolved`"); SKIP LOCKED: a case a request is changing waits
-- for the next run. The number moved.
-- params: limit, actor
WITH due AS (
    SELECT c.id, st.name AS from_name, st.auto_close_after_hours AS hours,
           coalesce(st.auto_close_status_id, 3) AS to_status
    FROM case_statuses st
    JOIN cases c ON c.status_id = st.id
    WHERE st.auto_close_after_hours IS NOT NULL
      AND NOT c.is_archived
      AND coalesce(c.status_since, c.last_modification_time)
          <= service_level_clock() - st.auto_close_after_hours * interval '1 hour'
    ORDER BY c.id
    LIMIT $1
    FOR UPDATE OF c SKIP LOCKED
), moved AS (
    UPDATE cases c
    SET status_id = t.id, closing_time = CASE WHEN t.is_closed THEN coalesce(c.closing_time, now()) END,
        last_modification_time = now(), last_modified_by = $2
    FROM due
    JOIN case_statuses t ON t.id = due.to_status
    WHERE c.id = due.id
    RETURNING c.id, due.from_name, due.hours, t.name AS to_name
)
SELECT count(record_case_change(moved.id, $2, ARRAY[format(
           'Case status set to `%s` automatically after %s hours in `%s`', moved.to_name, trim_scale(moved.hours),
           moved.from_name)]))::integer
FROM moved
