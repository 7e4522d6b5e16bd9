-- push_reads --
-- A push's locks and what it reads under them, in one call (schema.sql, push_reads): identity ($1
-- BackendSystemID, $2 BackendID), the pushed customer's keys ($3), the case's row ($4, else the identity's case;
-- $5: the caller as a case_viewer), and the usual lookups: topic by BackendID ($6), status by name ($7),
-- customer by BackendID ($8). Simultaneous pushes of one case run one after the other instead of deadlocking;
-- cases_backend_id_unique remains the guarantee of one case per identity.
-- params: system_id, backend_id, customer_keys, known_case_id, viewer, topic_key, status_key, customer_key
SELECT * FROM push_reads($1, $2, $3, $4, $5, $6, $7, $8)

-- insert_case --
-- A pushed case with its interactions (parallel arrays: backend IDs, types, texts; all new) and its ledger lines,
-- in one statement. The ledger lines follow the interactions (record_case_change runs once `written` is complete,
-- as the row it is called for needs the count). A taken identity violates cases_backend_id_unique. The last
-- interaction time is the interactions' (now) when `interactions_time`, else the one given. With `auto_assign` and
-- no assignee the case asks for automatic assignment (cases_auto_assign).
-- params: backend_system_id, backend_id, topic_id, status_id, customer_id, title, description, summary, solution,
-- params: priority, is_warranty, assignee_id, assigned_on, assigned_organization_unit_id, originating_organization_unit_id, reporting_time,
-- params: closing_time, last_interaction_time, order_id, actor, backend_ids, types, texts, interactions_time, lines,
-- params: due_date, auto_assign, customer_reference, origin
WITH new_case AS (
    INSERT INTO cases (backend_system_id, backend_id, topic_id, status_id, customer_id, title, description, summary,
                       solution, priority, is_warranty, assignee_id, assigned_on, assigned_organization_unit_id,
                       originating_organization_unit_id, reporting_time, closing_time, last_interaction_time,
                       order_id, summary_last_modification_time, summary_last_modified_by, created_by,
                       last_modified_by, origin, due_date, awaiting_assignment, customer_reference)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, coalesce($16, now()), $17,
            CASE WHEN $24 THEN now() ELSE $18 END, $19,
            CASE WHEN $8::text IS NOT NULL THEN now() END, CASE WHEN $8::text IS NOT NULL THEN $20::bigint END, $20,
            $20, $29, $26, $27 AND $12::bigint IS NULL AND EXISTS (SELECT 1 FROM assignment_rules), $28)
    RETURNING id
), written AS (
    INSERT INTO interactions (case_id, type, text, backend_id, created_by)
    SELECT new_case.id, i.type, i.text, i.backend_id, $20
    FROM new_case, unnest($21::text[], $22::integer[], $23::text[]) WITH ORDINALITY AS i (backend_id, type, text, n)
    ORDER BY i.n
    RETURNING id
)
SELECT new_case.id, record_case_change(new_case.id, $20, $25)
FROM new_case, (SELECT count(*) FROM written) AS w

-- update_case --
-- A pushed update of case $21, in one statement: the values merged by the handler (written when `changed`), the
-- pushed interactions upserted by BackendID ($22 backend IDs, $23 types, $24 texts; a null text keeps the stored
-- one) and the ledger lines ($26, after the interactions: record_case_change runs once `written` is complete).
-- The last interaction time is the pushed one when `time_pushed`, else now when an interaction was written, else
-- kept; the last modification follows the ledger lines. A taken identity violates cases_backend_id_unique.
-- params: backend_system_id, backend_id, topic_id, status_id, customer_id, title, description, summary, solution,
-- params: priority, is_warranty, assignee_id, assigned_on, assigned_organization_unit_id, originating_organization_unit_id, reporting_time,
-- params: closing_time, last_interaction_time, order_id, actor, case_id, backend_ids, types, texts, time_pushed,
-- params: lines, changed, due_date, customer_reference, origin
WITH pushed AS (
    SELECT i.backend_id, i.type, i.text, i.n
    FROM unnest($22::text[], $23::integer[], $24::text[]) WITH ORDINALITY AS i (backend_id, type, text, n)
), written AS (
    INSERT INTO interactions AS t (case_id, type, text, backend_id, created_by)
    SELECT $21, p.type, p.text, p.backend_id, $20 FROM pushed p ORDER BY p.n
    ON CONFLICT (case_id, backend_id) WHERE backend_id IS NOT NULL DO UPDATE
    SET type = excluded.type, text = coalesce(excluded.text, t.text), last_modification_time = now()
    WHERE (t.type, t.text) IS DISTINCT FROM (excluded.type, coalesce(excluded.text, t.text))
    RETURNING t.id
), changed AS (
    UPDATE cases c
    SET backend_system_id = $1, backend_id = $2, topic_id = $3, status_id = $4, customer_id = $5, title = $6,
        description = $7, summary = $8, solution = $9, priority = $10, is_warranty = $11, assignee_id = $12,
        assigned_on = $13, assigned_organization_unit_id = $14, originating_organization_unit_id = $15,
        reporting_time = coalesce($16, c.reporting_time), closing_time = $17, order_id = $19, due_date = $28,
        customer_reference = $29, origin = $30,
        cancellation_reason = CASE WHEN c.status_id = $4 THEN c.cancellation_reason END,
        last_interaction_time = CASE WHEN $25 THEN $18
                                     WHEN EXISTS (SELECT 1 FROM written) THEN now()
                                     ELSE c.last_interaction_time END,
        summary_last_modification_time = CASE WHEN c.summary IS DISTINCT FROM $8 THEN now()
                                              ELSE c.summary_last_modification_time END,
        summary_last_modified_by = CASE WHEN c.summary IS DISTINCT FROM $8 THEN $20 ELSE c.summary_last_modified_by END,
        last_modification_time = CASE WHEN cardinality($26::text[]) > 0 THEN now() ELSE c.last_modification_time END,
        last_modified_by = CASE WHEN cardinality($26::text[]) > 0 THEN $20 ELSE c.last_modified_by END
    WHERE c.id = $21 AND ($27 OR $25 OR cardinality($26::text[]) > 0 OR EXISTS (SELECT 1 FROM written))
    RETURNING c.id
)
SELECT record_case_change($21, $20, $26) FROM (SELECT count(*) FROM written) AS w, (SELECT count(*) FROM changed) AS c
-- delete_interactions --
-- Remove the pushed interactions of case $1 with BackendIDs $2 (their blob references go with them); the IDs.
DELETE FROM interactions WHERE case_id = $1 AND backend_id = ANY ($2::text[]) AND type <> 2 RETURNING id

-- upsert_related_items --
-- Pushed related items of case $1, each identified by (OrderLineID, ProductID, SerialNumber) within the case:
-- a known one gets the pushed warranty details, a new one is added (parallel arrays $2..$7), by user $8.
-- params: case_id, order_line_ids, product_ids, serial_numbers, is_warranty, warranty_expirations, infos, actor
WITH pushed AS (
    SELECT i.*
    FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::boolean[], $6::timestamptz[], $7::text[])
             WITH ORDINALITY AS i (order_line_id, product_id, serial_number, is_warranty, warranty_expiration,
                                   info, n)
), updated AS (
    UPDATE case_related_items r
    SET is_warranty = p.is_warranty, warranty_expiration = p.warranty_expiration,
        warranty_additional_information = p.info
    FROM pushed p
    WHERE r.case_id = $1
      AND (r.order_line_id, r.product_id, r.serial_number)
          IS NOT DISTINCT FROM (p.order_line_id, p.product_id, p.serial_number)
    RETURNING p.n
)
INSERT INTO case_related_items (case_id, order_line_id, product_id, serial_number, is_warranty,
                                warranty_expiration, warranty_additional_information, created_by)
SELECT $1, p.order_line_id, p.product_id, p.serial_number, p.is_warranty, p.warranty_expiration, p.info, $8
FROM pushed p
WHERE p.n NOT IN (SELECT n FROM updated)
ORDER BY p.n

-- delete_related_items --
-- Remove the related items of case $1 matching the pushed keys (parallel arrays $2..$4); the IDs.
DELETE FROM case_related_items r
USING unnest($2::bigint[], $3::bigint[], $4::text[]) AS d (order_line_id, product_id, serial_number)
WHERE r.case_id = $1
  AND (r.order_line_id, r.product_id, r.serial_number)
      IS NOT DISTINCT FROM (d.order_line_id, d.product_id, d.serial_number)
RETURNING r.id

-- clear_related_items --
-- A pushed `"CaseRelatedItems": null`: the case's related items go.
DELETE FROM case_related_items WHERE case_id = $1 RETURNING id

-- topic_path --
-- A topic's display path, for the ledger.
SELECT topic_path($1)

-- topic_by_backend_id --
-- The live topic with BackendID $1, with its display path (the ledger's).
SELECT id, name, path FROM pushed_topic_by_backend_id($1)

-- topic_by_name_under --
-- The live topic named $1 (case-insensitively) under parent $2 (null: a root topic); at most one exists.
SELECT id, name, topic_path(id) AS path FROM case_topics
WHERE lower(name) = lower($1) AND parent_id IS NOT DISTINCT FROM $2::bigint AND NOT is_deleted

-- topics_by_name --
-- Live topics named $1 (case-insensitively) anywhere in the tree; two rows are enough to know it is ambiguous.
SELECT id, name, topic_path(id) AS path FROM case_topics WHERE lower(name) = lower($1) AND NOT is_deleted
ORDER BY id LIMIT 2

-- topic_depth --
-- How many levels topic $1 is below the root (0 for a root topic).
SELECT max(depth) FROM topic_ancestry($1)

-- create_pushed_topic --
-- A topic named $2 under parent $1 (null: root) with BackendID $3; no row when a live sibling already has the
-- name (a simultaneous push created it: the caller reads that one).
INSERT INTO case_topics (parent_id, name, backend_id) VALUES ($1, $2, $3)
ON CONFLICT (coalesce(parent_id, 0), lower(name)) WHERE NOT is_deleted DO NOTHING
RETURNING id, name

-- find_status --
-- The status named $1 (exactly, else case-insensitively), else the one with BackendID $1; key-share-locked.
SELECT id, name, is_closed FROM pushed_status($1)

-- create_pushed_status --
-- An open status named $1; no row when a simultaneous push created it first.
INSERT INTO case_statuses (name) VALUES ($1)
ON CONFLICT (name) DO NOTHING
RETURNING id, name, is_closed

-- user_by_id --
SELECT id, user_type, first_name, last_name FROM users WHERE id = $1

-- employee_by_custom_id --
-- The Employee or System user with CustomID $1 (as recorded from their token or set by the CLI).
SELECT id, user_type, first_name, last_name FROM users
WHERE custom_id = $1 AND user_type & 1 <> 0
ORDER BY id
LIMIT 1

-- employee_by_email --
-- The Employee or System user with e-mail address $1 (case-insensitively).
SELECT id, user_type, first_name, last_name FROM users
WHERE lower(email_address) = lower($1) AND user_type & 1 <> 0
ORDER BY id
LIMIT 1

-- unit_by_backend_id --
SELECT id FROM organization_units WHERE backend_id = $1
