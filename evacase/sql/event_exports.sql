-- create_endpoint --
-- A new endpoint configuration (secrets sealed by the caller).
-- params: name, backend_id, endpoint, status, ignore_null_values, use_string_ids, timeout_seconds, auth_config,
-- params: secret_key1, secret_key2, created_by
INSERT INTO endpoint_configurations (name, backend_id, endpoint, status, ignore_null_values, use_string_ids,
                                     timeout_seconds, auth_config, secret_key1, secret_key2, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING id

-- lock_endpoint --
-- One endpoint configuration, locked for a change.
SELECT * FROM endpoint_configurations WHERE id = $1 FOR UPDATE

-- update_endpoint --
-- An endpoint configuration's fields as merged by the handler; re-enabling it clears its error.
-- params: id, name, backend_id, endpoint, status, ignore_null_values, use_string_ids, timeout_seconds, auth_config
UPDATE endpoint_configurations
SET name = $2, backend_id = $3, endpoint = $4, status = $5, ignore_null_values = $6, use_string_ids = $7,
    timeout_seconds = $8, auth_config = $9, last_modification_time = now(),
    error_reason = CASE WHEN $5 = 3 THEN error_reason END
WHERE id = $1

-- rotate_endpoint_key --
-- A new signing key $3 in slot $2 (1 or 2) of endpoint $1.
UPDATE endpoint_configurations
SET secret_key1 = CASE WHEN $2 = 1 THEN $3 ELSE secret_key1 END,
    secret_key2 = CASE WHEN $2 = 2 THEN $3 ELSE secret_key2 END,
    last_modification_time = now()
WHERE id = $1
RETURNING id

-- delete_endpoint --
-- Remove an endpoint configuration (its export configurations keep their settings, without an endpoint).
DELETE FROM endpoint_configurations WHERE id = $1 RETURNING id

-- get_endpoint --
SELECT * FROM endpoint_configurations WHERE id = $1

-- list_endpoints --
SELECT * FROM endpoint_configurations ORDER BY id LIMIT 1000

-- create_export --
-- A new event export configuration.
-- params: name, backend_id, endpoint_id, status, concurrent_requests, timeout_seconds, config, auth_config,
-- params: event_types, excluded_event_types, include_units, exclude_units, created_by
INSERT INTO event_export_configurations (name, backend_id, endpoint_configuration_id, status, concurrent_requests,
                                         timeout_seconds, config, auth_config, event_types, excluded_event_types,
                                         include_units, exclude_units, created_by)
SELECT $1, $2, p.id, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
FROM endpoint_configurations p WHERE p.id = $3
RETURNING id

-- lock_export --
-- One event export configuration, locked for a change.
SELECT * FROM event_export_configurations WHERE id = $1 FOR UPDATE

-- update_export --
-- An export configuration's fields as merged by the handler. Re-enabling it (status 1) clears its error and
-- its failure count, and makes its waiting deliveries due now.
-- params: id, name, backend_id, endpoint_id, status, concurrent_requests, timeout_seconds, config, auth_config,
-- params: event_types, excluded_event_types, include_units, exclude_units
WITH changed AS (
    UPDATE event_export_configurations x
    SET name = $2, backend_id = $3, endpoint_configuration_id = $4, status = $5, concurrent_requests = $6,
        timeout_seconds = $7, config = $8, auth_config = $9, event_types = $10, excluded_event_types = $11,
        include_units = $12, exclude_units = $13, last_modification_time = now(),
        error_reason = CASE WHEN $5 = 3 THEN x.error_reason END,
        consecutive_failures = CASE WHEN $5 = 1 THEN 0 ELSE x.consecutive_failures END
    WHERE x.id = $1
    RETURNING x.id, x.status
)
UPDATE event_deliveries d SET next_attempt_at = now()
FROM changed
WHERE changed.status = 1 AND d.configuration_id = changed.id AND d.delivered_at IS NULL

-- delete_export --
-- Remove an export configuration and its deliveries.
DELETE FROM event_export_configurations WHERE id = $1 RETURNING id

-- get_export --
-- One export configuration with its endpoint and delivery health.
SELECT x.*, p.endpoint, p.status AS endpoint_status, p.secret_key1, p.secret_key2,
       (SELECT count(*) FROM event_deliveries d WHERE d.configuration_id = x.id AND d.delivered_at IS NULL)
           AS pending_deliveries,
       (SELECT count(*) FROM event_deliveries d
        WHERE d.configuration_id = x.id AND d.delivered_at IS NULL AND d.attempt > 0) AS failing_deliveries,
       EXISTS (SELECT 1 FROM event_deliveries d
               WHERE d.configuration_id = x.id AND d.delivered_at IS NULL AND d.is_replay) AS replaying
FROM event_export_configurations x
LEFT JOIN endpoint_configurations p ON p.id = x.endpoint_configuration_id
WHERE x.id = $1

-- list_exports --
SELECT x.*, p.endpoint, p.status AS endpoint_status, p.secret_key1, p.secret_key2,
       (SELECT count(*) FROM event_deliveries d WHERE d.configuration_id = x.id AND d.delivered_at IS NULL)
           AS pending_deliveries,
       (SELECT count(*) FROM event_deliveries d
        WHERE d.configuration_id = x.id AND d.delivered_at IS NULL AND d.attempt > 0) AS failing_deliveries,
       EXISTS (SELECT 1 FROM event_deliveries d
               WHERE d.configuration_id = x.id AND d.delivered_at IS NULL AND d.is_replay) AS replaying
FROM event_export_configurations x
LEFT JOIN endpoint_configurations p ON p.id = x.endpoint_configuration_id
ORDER BY x.id
LIMIT 1000

-- replay_events --
-- Queue again, for export configuration $1, the exported events recorded between $2 and $3 that it takes
-- (delivered ones anew, with Attempt counting on); at most $4 events (the handler refuses a larger range first).
-- The configuration is enabled again and the worker woken.
-- params: id, start, end, limit
WITH x AS (
    UPDATE event_export_configurations
    SET status = 1, error_reason = NULL, consecutive_failures = 0, last_modification_time = now()
    WHERE id = $1
    RETURNING id, event_types, excluded_event_types, include_units, exclude_units
), chosen AS (
    SELECT e.id, e.case_id FROM case_events e, x
    WHERE e.created_at >= $2 AND e.created_at < $3 AND e.is_exported
      AND (x.event_types IS NULL OR e.event_type = ANY (x.event_types))
      AND NOT e.event_type = ANY (x.excluded_event_types)
      AND (x.include_units IS NULL AND x.exclude_units = '{}'
           OR case_unit_exported(e.case_id, x.include_units, x.exclude_units))
    ORDER BY e.id
    LIMIT $4
), queued AS (
    INSERT INTO event_deliveries AS d (configuration_id, event_id, case_id, is_replay)
    SELECT x.id, chosen.id, chosen.case_id, true FROM x, chosen
    ON CONFLICT (configuration_id, event_id) DO UPDATE
    SET delivered_at = NULL, next_attempt_at = now(), leased_until = NULL, is_replay = true
    RETURNING 1
), woken AS (
    UPDATE event_deliveries d SET next_attempt_at = now()
    FROM x WHERE d.configuration_id = x.id AND d.delivered_at IS NULL
)
SELECT (SELECT id FROM x) AS id, (SELECT count(*) FROM queued) AS queued,
       pg_notify('evacase_event_deliveries', '') IS NULL AS notified

-- count_replay --
-- How many exported events were recorded between $1 and $2 (up to $3 + 1).
SELECT count(*) FROM (
    SELECT 1 FROM case_events WHERE created_at >= $1 AND created_at < $2 AND is_exported LIMIT $3 + 1
) AS e

-- export_delivery --
-- What a delivery through export configuration $1 needs: its endpoint's columns and its own overrides.
SELECT x.id, x.status, x.timeout_seconds AS export_timeout_seconds, x.auth_config AS export_auth_config,
       p.endpoint, p.status AS endpoint_status, p.auth_config, p.secret_key1, p.secret_key2, p.use_string_ids,
       p.ignore_null_values, p.timeout_seconds
FROM event_export_configurations x
LEFT JOIN endpoint_configurations p ON p.id = x.endpoint_configuration_id
WHERE x.id = $1

-- deliverable_exports --
-- The export configurations the worker delivers for now: enabled, with an enabled endpoint.
SELECT x.id FROM event_export_configurations x
JOIN endpoint_configurations p ON p.id = x.endpoint_configuration_id AND p.status = 1
WHERE x.status = 1
ORDER BY x.id

-- claim_deliveries --
-- Lease, for $2 seconds, the due deliveries of export configuration $1 that it has room for (its
-- ConcurrentRequests minus those leased now), oldest due first, each the earliest undelivered event of its case
-- (a later event of a case waits until the earlier one is delivered). The configuration's row lock makes claims
-- for one configuration take turns across processes; SKIP LOCKED never waits. Each claimed delivery counts an
-- attempt; with the event and its case's IDs.
WITH x AS (
    SELECT x.id, x.concurrent_requests FROM event_export_configurations x
    WHERE x.id = $1 AND x.status = 1
    FOR UPDATE OF x SKIP LOCKED
), room AS (
    SELECT x.id, greatest(x.concurrent_requests - (
        SELECT count(*) FROM event_deliveries l
        WHERE l.configuration_id = x.id AND l.delivered_at IS NULL AND l.leased_until > now()
    ), 0) AS n
    FROM x
), due AS (
    SELECT d.configuration_id, d.event_id FROM event_deliveries d, room
    WHERE d.configuration_id = room.id AND d.delivered_at IS NULL AND d.next_attempt_at <= now()
      AND (d.leased_until IS NULL OR d.leased_until <= now())
      AND NOT EXISTS (
          SELECT 1 FROM event_deliveries e
          WHERE e.configuration_id = d.configuration_id AND e.case_id = d.case_id AND e.delivered_at IS NULL
            AND e.event_id < d.event_id
      )
    ORDER BY d.next_attempt_at, d.event_id
    LIMIT (SELECT n FROM room)
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE event_deliveries d
SET leased_until = now() + make_interval(secs => $2), attempt = d.attempt + 1
FROM due
JOIN case_events e ON e.id = due.event_id
LEFT JOIN cases c ON c.id = e.case_id
WHERE d.configuration_id = due.configuration_id AND d.event_id = due.event_id
RETURNING d.event_id, d.attempt, e.uid, e.event_type, e.case_id, e.interaction_id, e.created_at, c.backend_id,
          c.backend_system_id

-- next_due --
-- In how many seconds the next undelivered delivery of a deliverable configuration falls due (null: none waits).
SELECT extract(epoch FROM min(d.next_attempt_at) - now())::float8 FROM event_deliveries d
JOIN event_export_configurations x ON x.id = d.configuration_id AND x.status = 1
WHERE d.delivered_at IS NULL

-- record_delivered --
-- Delivery ($1 configuration, $2 event, $3 the attempt that leased it) succeeded with HTTP status $4: delivered;
-- the configuration's failure count restarts and its endpoint was reached now. Nothing if another attempt has
-- taken it over since (its lease ran out).
WITH done AS (
    UPDATE event_deliveries
    SET delivered_at = now(), leased_until = NULL, last_status = $4, last_error = NULL
    WHERE configuration_id = $1 AND event_id = $2 AND attempt = $3 AND delivered_at IS NULL
    RETURNING configuration_id
), x AS (
    UPDATE event_export_configurations
    SET consecutive_failures = 0, last_delivery_time = now()
    WHERE id IN (SELECT configuration_id FROM done)
    RETURNING endpoint_configuration_id
)
UPDATE endpoint_configurations SET last_access_time = now() WHERE id IN (SELECT endpoint_configuration_id FROM x)

-- record_failed --
-- Delivery ($1, $2, attempt $3) failed (HTTP status $4, 0 without an answer; $5 why): tried again in $6 seconds.
-- The configuration counts one more consecutive failure; at $7 it goes to Error (3) with reason $8, and its
-- deliveries wait (nothing is dropped) until it is enabled again or ReplayEvents runs.
-- params: configuration_id, event_id, attempt, status, error, retry_seconds, failures_before_error, reason
WITH failed AS (
    UPDATE event_deliveries
    SET leased_until = NULL, last_status = $4, last_error = $5, next_attempt_at = now() + make_interval(secs => $6)
    WHERE configuration_id = $1 AND event_id = $2 AND attempt = $3 AND delivered_at IS NULL
    RETURNING configuration_id
)
UPDATE event_export_configurations x
SET consecutive_failures = x.consecutive_failures + 1,
    status = CASE WHEN x.status = 1 AND x.consecutive_failures + 1 >= $7 THEN 3 ELSE x.status END,
    error_reason = CASE WHEN x.status = 1 AND x.consecutive_failures + 1 >= $7 THEN $8 ELSE x.error_reason END
FROM failed
WHERE x.id = failed.configuration_id
RETURNING x.status

-- prune_deliveries --
-- Delivered deliveries older than the retention ($1 days), a batch of $2 at a time.
DELETE FROM event_deliveries d
WHERE (d.configuration_id, d.event_id) IN (
    SELECT configuration_id, event_id FROM event_deliveries
    WHERE delivered_at < now() - $1::float8 * interval '1 day'
    LIMIT $2
)

-- prune_events --
-- Events older than the retention ($1 days) that no delivery still waits for, a batch of $2 at a time.
DELETE FROM case_events e
WHERE e.id IN (
    SELECT id FROM case_events c
    WHERE c.created_at < now() - $1::float8 * interval '1 day'
      AND NOT EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = c.id AND d.delivered_at IS NULL)
    ORDER BY c.created_at
    LIMIT $2
)
