-- disable_event_exports --
-- Record this transaction's case events unexported (PushCase's DisableEventExports; record_case_event reads it).
SELECT set_config('evacase.disable_event_exports', 'on', true)

-- feed_start --
-- Where a change feed starting at time $1 begins: just before the first transaction that recorded an event at or
-- after $1 (among the first 100,000 such events by time: transactions commit in a different order than they
-- start, within seconds); with none, at the oldest transaction still running (everything before it is past).
-- A position is (transaction ID, event ID); the feed reads the events after it.
SELECT coalesce(
    (SELECT min(e.txid) FROM (
        SELECT txid FROM case_events WHERE created_at >= $1 ORDER BY created_at LIMIT 100000
    ) AS e),
    pg_snapshot_xmin(pg_current_snapshot())
)::text::bigint AS txid

-- change_feed --
-- A page of the change feed after position ($1 transaction, $2 event): the events of transactions that have all
-- ended (below the oldest running one: a transaction that commits late is never skipped, because the feed does
-- not pass it until it has), at most $3 of them in (transaction, event) order, cut where the $4 + 1st distinct
-- case the caller may see ($5: a customer's own cases; $6: the staff caller as a case_viewer) first
-- appears. The cases of the page, each once, in order of their first change in it, and the position after it
-- (null: no event to read yet).
-- params: txid, event_id, scan, limit, customer_id, viewer
WITH scanned AS (
    SELECT e.id, e.txid, e.case_id, row_number() OVER (ORDER BY e.txid, e.id) AS n
    FROM (
        SELECT e.id, e.txid, e.case_id FROM case_events e
        WHERE (e.txid, e.id) > ($1::bigint::text::xid8, $2::bigint)
          AND e.txid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY e.txid, e.id
        LIMIT $3
    ) AS e
), seen AS (
    SELECT s.case_id, min(s.n) AS first_n
    FROM scanned s
    JOIN cases c ON c.id = s.case_id
    WHERE ($5::bigint IS NULL OR c.customer_id = $5)
      AND case_visible(c.assigned_organization_unit_id, c.assignee_id, c.created_by, $6)
    GROUP BY s.case_id
), cut AS (
    SELECT coalesce(
        (SELECT first_n FROM seen ORDER BY first_n OFFSET $4 LIMIT 1),
        (SELECT max(n) FROM scanned) + 1
    ) AS n
), last AS (
    SELECT s.txid::text::bigint AS txid, s.id FROM scanned s, cut WHERE s.n < cut.n ORDER BY s.n DESC LIMIT 1
)
SELECT (SELECT txid FROM last) AS next_txid, (SELECT id FROM last) AS next_id,
       ARRAY (
           SELECT ROW (c.id, c.backend_id, c.status_id, eva_time(c.last_modification_time))
           FROM seen
           JOIN cases c ON c.id = seen.case_id
           WHERE seen.first_n < (SELECT n FROM cut)
           ORDER BY seen.first_n
       ) AS cases

-- outbox_lag --
-- Seconds since the oldest event still waiting for a delivery was recorded (0: none waiting), for /metrics.
SELECT coalesce(extract(epoch FROM now() - min(e.created_at)), 0)::float8
FROM event_deliveries d
JOIN case_events e ON e.id = d.event_id
WHERE d.delivered_at IS NULL
