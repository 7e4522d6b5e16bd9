-- create_case --
-- An employee's new case with its opening ledger lines ($13), in one statement; with AutoAssign ($15) and no
-- assignee it asks for automatic assignment (cases_auto_assign). Nothing is written when the topic is not a live
-- topic (topic_ok) or the customer is unknown (customer_ok).
-- params: actor, topic_id, customer_id, title, description, priority, status_id, backend_id,
-- params: external_order_identifier, assignee_id, assigned_unit_id, originating_unit_id, ledger_lines, due_date,
-- params: auto_assign, customer_reference, origin
WITH topic AS (
    SELECT id FROM case_topics WHERE id = $2 AND NOT is_deleted
), customer AS (
    SELECT id FROM users WHERE id = $3
), new_case AS (
    INSERT INTO cases (created_by, last_modified_by, topic_id, customer_id, title, description, priority,
                       status_id, backend_id, external_order_identifier, assignee_id, assigned_on,
                       assigned_organization_unit_id, originating_organization_unit_id, due_date,
                       awaiting_assignment, customer_reference, origin)
    SELECT $1, $1, topic.id, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $10::bigint IS NOT NULL THEN now() END,
           $11, $12, $14, $15 AND $10::bigint IS NULL AND EXISTS (SELECT 1 FROM assignment_rules), $16, $17
    FROM topic
    WHERE $3::bigint IS NULL OR EXISTS (SELECT 1 FROM customer)
    RETURNING id
), ledger AS (
    INSERT INTO interactions (case_id, type, text, created_by)
    SELECT new_case.id, 2, l.text, $1
    FROM new_case, unnest($13::text[]) WITH ORDINALITY AS l (text, n)
    ORDER BY l.n
)
SELECT (SELECT id FROM new_case) AS case_id,
       EXISTS (SELECT 1 FROM topic) AS topic_ok,
       $3::bigint IS NULL OR EXISTS (SELECT 1 FROM customer) AS customer_ok

-- get_case --
-- The employee view of case $1, if the caller may see it ($2: the caller as a case_viewer):
-- with its topic chain (the topic first: id, name, backend_id, is_deleted; each display name is the chain's names
-- from the root, joined by the handler, as topic_path joins them), its blobs in attach
-- order (GUID, the URL it came as, and for a stored blob its name, MIME type and size), its related items (oldest
-- first), whether custom fields visible to user type $3 exist, and its service level, in one statement.
SELECT c.id, c.title, c.description, c.priority, c.status_id, s.name AS status_name, s.color AS status_color,
       s.is_closed, c.topic_id, c.customer_id, cu.first_name AS customer_first_name,
       cu.last_name AS customer_last_name, cu.email_address AS customer_email, cu.backend_id AS customer_backend_id,
       nullif(cp.phone_number, '') AS customer_phone,
       c.assignee_id, a.first_name AS assignee_first_name, a.last_name AS assignee_last_name,
       a.email_address AS assignee_email, c.assigned_on,
       c.assigned_organization_unit_id, au.name AS assigned_unit_name,
       c.originating_organization_unit_id, ou.name AS originating_unit_name,
       c.backend_id, c.external_order_identifier, c.order_id, c.summary, c.summary_last_modification_time,
       c.summary_last_modified_by, c.solution, c.is_warranty, c.is_archived, c.reporting_time, c.closing_time,
       c.last_interaction_time, c.creation_time, c.created_by, cb.first_name AS created_by_first_name,
       cb.last_name AS created_by_last_name, c.last_modification_time, c.last_modified_by,
       mb.first_name AS modified_by_first_name, mb.last_name AS modified_by_last_name,
       coalesce(c.due_date, sl.resolution_due) AS due_date, sl.case_id IS NOT NULL AS has_service_level,
       sl.policy_id AS sla_policy_id, sl.policy_name AS sla_policy_name, sl.first_response_due,
       sl.first_response_time, sl.next_response_due, sl.resolution_due, sl.paused_since IS NOT NULL AS sla_paused,
       service_level_at_risk(sl, s.is_closed) AS sla_at_risk,
       coalesce(sl.first_response_warned_at, sl.next_response_warned_at, sl.resolution_warned_at) AS sla_warned_at,
       sl.first_response_breached_at, sl.next_response_breached_at, sl.resolution_breached_at,
       c.customer_reference, c.origin, c.cancellation_reason,
       ARRAY (SELECT g.tag FROM case_tags g WHERE g.case_id = c.id ORDER BY g.tag) AS tags,
       coalesce(x.customer_contacts + x.staff_contacts, 0) > 0 AS has_contacts,
       coalesce(x.links, 0) > 0 AS has_links,
       ARRAY (SELECT ROW (b.blob_id, b.url, s.original_name, s.mime_type, s.size)
              FROM case_blobs b
              LEFT JOIN blobs s ON s.id = b.blob_id AND s.deleted_at IS NULL
              WHERE b.case_id = c.id
              ORDER BY b.position) AS blobs,
       EXISTS (SELECT 1 FROM custom_fields f WHERE f.visible_mask & $3 <> 0) AS has_custom_fields,
       ARRAY (SELECT ROW (t.id, t.name, t.backend_id, t.is_deleted)
              FROM topic_ancestry(c.topic_id) x
              JOIN case_topics t ON t.id = x.id
              ORDER BY x.depth) AS topic_chain,
       ARRAY (SELECT ROW (r.id, r.order_line_id, r.product_id, r.serial_number, r.is_warranty,
                          r.warranty_expiration, r.warranty_additional_information)
              FROM case_related_items r
              WHERE r.case_id = c.id
              ORDER BY r.id) AS related_items
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN users cu ON cu.id = c.customer_id
LEFT JOIN customer_profiles cp ON cp.user_id = c.customer_id
LEFT JOIN users a ON a.id = c.assignee_id
LEFT JOIN users cb ON cb.id = c.created_by
LEFT JOIN users mb ON mb.id = c.last_modified_by
LEFT JOIN organization_units au ON au.id = c.assigned_organization_unit_id
LEFT JOIN organization_units ou ON ou.id = c.originating_organization_unit_id
LEFT JOIN case_service_levels sl ON sl.case_id = c.id
LEFT JOIN case_extras x ON x.case_id = c.id  -- counted by triggers: no probe of contacts and links
WHERE c.id = $1
  AND case_visible(c.assigned_organization_unit_id, c.assignee_id, c.created_by, $2)

-- get_topic --
-- A topic a case may be filed under (live).
SELECT id, name FROM case_topics WHERE id = $1 AND NOT is_deleted

-- update_case --
-- The fields UpdateCase edits, as merged by the handler.
-- params: case_id, title, description, topic_id, customer_id, backend_id, external_order_identifier,
-- params: assigned_organization_unit_id, originating_organization_unit_id, due_date, customer_reference
UPDATE cases
SET title = $2, description = $3, topic_id = $4, customer_id = $5, backend_id = $6,
    external_order_identifier = $7, assigned_organization_unit_id = $8, originating_organization_unit_id = $9,
    due_date = $10, customer_reference = $11
WHERE id = $1

-- staff_state --
-- Case $1 as an employee's state change reads it, if the caller may see it ($2: the caller as a
-- case_viewer), with its row version (xmin: a new one at every update), the status it moves into ($3; null: its own;
-- new_status_name null when there is none) and the assignee it is given ($4; assignee_type null: no such user).
SELECT c.id, c.xmin AS version, c.priority, c.status_id, c.assignee_id, c.solution, c.is_archived,
       c.cancellation_reason, cs.is_closed,
       t.name AS new_status_name, t.is_closed AS new_is_closed, t.action AS new_action,
       u.user_type AS assignee_type, u.first_name AS assignee_first_name, u.last_name AS assignee_last_name
FROM cases c
JOIN case_statuses cs ON cs.id = c.status_id
LEFT JOIN case_statuses t ON t.id = coalesce($3, c.status_id)
LEFT JOIN users u ON u.id = $4
WHERE c.id = $1
  AND case_visible(c.assigned_organization_unit_id, c.assignee_id, c.created_by, $2)

-- update_state --
-- Status, priority, assignee and solution as the rules merged them, with their ledger lines (record_case_change),
-- written only if the case is still the version that was read and the target status still closes (or not) as it
-- did; the status is key-share-locked for the move (the lock the foreign key's check takes on it anyway: a
-- concurrent UpdateCaseStatus or DeleteCaseStatus locks it FOR UPDATE first and waits, or the move waits for it
-- and reads the status it committed; tests/test_races.py). No row:
-- something changed in between (the handler then reads again under the case's lock).
-- params: case_id, version, status_id, priority, assignee_id, solution, is_closed, actor, lines,
-- params: cancellation_reason
WITH target AS (
    SELECT s.id FROM case_statuses s WHERE s.id = $3 AND s.is_closed = $7 FOR KEY SHARE
), changed AS (
    UPDATE cases c
    SET status_id = target.id, priority = $4, solution = $6,
        closing_time = CASE WHEN NOT $7 THEN NULL WHEN c.closing_time IS NULL THEN now() ELSE c.closing_time END,
        assigned_on = CASE WHEN $5::bigint IS NULL THEN NULL
                           WHEN c.assignee_id IS DISTINCT FROM $5 THEN now() ELSE c.assigned_on END,
        assignee_id = $5, cancellation_reason = $10,
        last_modification_time = now(), last_modified_by = $8
    FROM target
    WHERE c.id = $1 AND c.xmin = $2
    RETURNING c.id
)
SELECT record_case_change(changed.id, $8, $9) FROM changed

-- update_summary --
-- A new summary, with who wrote it and when.
UPDATE cases SET summary = $2, summary_last_modification_time = now(), summary_last_modified_by = $3
WHERE id = $1

-- archive_case --
-- Archive a case: it leaves ListCases and becomes read-only.
UPDATE cases SET is_archived = true WHERE id = $1

-- customer_create_case --
-- A customer's new case with its opening ledger lines ($6), in one statement. The case is not written when
-- the topic does not exist (topic_ok), the order is known to belong to someone else (order_ok) or a required
-- custom field is missing (missing_field_id). Custom field values: $9 field IDs and $10 values as checked by the
-- handler (defaults included) with $11 the private note recording them; when $9 is null (the request named no
-- custom fields) the fields' defaults are stored and a required field a customer may edit, without a default,
-- is missing. Contacts ($13: a JSON array as domain/contacts.py makes it, distinct) are added with the case.
-- params: customer_id, topic_id, title, description, order_id, ledger_lines, priority, status_id, field_ids,
-- params: field_values, field_note, customer_reference, contacts
WITH topic AS (
    SELECT id FROM case_topics WHERE id = $2 AND NOT is_deleted
), foreign_order AS (
    SELECT 1 FROM orders WHERE id = $5 AND customer_id <> $1
), fields AS (
    SELECT id, name, default_value, coalesce(is_required, false) AND editable_mask & 2 <> 0 AS required
    FROM custom_fields
), missing AS (
    SELECT id, name FROM fields WHERE $9::bigint[] IS NULL AND required AND default_value IS NULL
), new_case AS (
    INSERT INTO cases (customer_id, topic_id, title, description, order_id, priority, status_id,
                       created_by, last_modified_by, origin, awaiting_assignment, customer_reference)
    SELECT $1, topic.id, $3, $4, $5, $7, $8, $1, $1, 'Web', EXISTS (SELECT 1 FROM assignment_rules), $12
    FROM topic
    WHERE NOT EXISTS (SELECT 1 FROM foreign_order) AND NOT EXISTS (SELECT 1 FROM missing)
    RETURNING id
), ledger AS (
    INSERT INTO interactions (case_id, type, text, created_by)
    SELECT new_case.id, 2, l.text, $1
    FROM new_case, unnest($6::text[]) WITH ORDINALITY AS l (text, n)
    ORDER BY l.n
), field_values AS (
    INSERT INTO case_custom_field_values (case_id, custom_field_id, value)
    SELECT new_case.id, v.field_id, v.value FROM new_case, unnest($9::bigint[], $10::jsonb[]) AS v (field_id, value)
    UNION ALL
    SELECT new_case.id, f.id, f.default_value FROM new_case, fields f
    WHERE $9::bigint[] IS NULL AND f.default_value IS NOT NULL
), note AS (
    INSERT INTO interactions (case_id, type, text, created_by)
    SELECT new_case.id, 1, $11, $1 FROM new_case WHERE $11::text IS NOT NULL
), contacts AS (
    INSERT INTO case_contacts (case_id, type, first_name, last_name, email_address, phone_number, created_by)
    SELECT new_case.id, x.type, x.first_name, x.last_name, x.email_address, x.phone_number, $1
    FROM new_case, jsonb_to_recordset(coalesce($13::jsonb, '[]')) AS x (type text, first_name text, last_name text,
                                                                         email_address text, phone_number text)
)
SELECT (SELECT id FROM new_case) AS case_id,
       EXISTS (SELECT 1 FROM topic) AS topic_ok,
       NOT EXISTS (SELECT 1 FROM foreign_order) AS order_ok,
       (SELECT m.id FROM missing m ORDER BY m.id LIMIT 1) AS missing_field_id,
       (SELECT m.name FROM missing m ORDER BY m.id LIMIT 1) AS missing_field_name

-- customer_get_case --
-- One case of the customer $2, with topic, status and blob IDs, and whether customers see any custom field.
-- Its timestamps and blob IDs come as the text EVA shows (the app's process is the busier one on a read).
SELECT c.topic_id, t.name AS topic_name, c.status_id, s.name AS status_name, s.is_closed,
       c.priority, c.title, c.description, c.order_id, c.is_warranty, eva_time(c.reporting_time) AS reporting_at,
       eva_time(c.closing_time) AS closing_at, c.solution, c.assignee_id, c.customer_reference,
       c.cancellation_reason,
       ARRAY (SELECT b.blob_id::text FROM case_blobs b WHERE b.case_id = c.id ORDER BY b.position)
           AS blob_ids,
       coalesce(x.customer_contacts, 0) > 0 AS has_contacts, coalesce(x.links, 0) > 0 AS has_links,
       EXISTS (SELECT 1 FROM custom_fields f WHERE f.visible_mask & 2 <> 0) AS has_custom_fields
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN case_topics t ON t.id = c.topic_id
LEFT JOIN case_extras x ON x.case_id = c.id  -- counted by triggers: no probe of contacts and links
WHERE c.id = $1 AND c.customer_id = $2

-- customer_get_topic --
-- A topic a case may be filed under (not deleted).
SELECT id, name FROM case_topics WHERE id = $1 AND NOT is_deleted

-- customer_update_case --
-- Title, description, topic and reference of a case, as the customer edited them.
-- params: case_id, title, description, topic_id, customer_reference
UPDATE cases SET title = $2, description = $3, topic_id = $4, customer_reference = $5 WHERE id = $1

-- customer_list_cases_after --
-- A page of the customer's cases, newest first, after the keyset bound ($2, $3). Without a title search: an
-- optional filter ($4 IS NULL OR ...) costs its generic plan a third more CPU per page, measured. The reporting
-- time comes only as EVA shows it (milliseconds: the page keys are read back from it, cheaper than decoding a
-- timestamp per row). The handler unpacks the columns by position: every customer_list_cases_* query keeps this
-- order.
-- params: customer_id, bound_time, bound_id, limit
SELECT c.id, c.topic_id, c.topic_name, c.status_id, c.status_name, c.priority, c.title, c.order_id,
       c.reporting_at, c.customer_reference
FROM customer_case_rows c
WHERE c.customer_id = $1
  AND (c.reporting_time, c.id) < ($2, $3)
ORDER BY c.reporting_time DESC, c.id DESC
LIMIT $4

-- customer_list_cases_before --
-- The same list, the rows before the keyset bound (read backwards; the caller reverses them).
-- params: customer_id, bound_time, bound_id, limit
SELECT c.id, c.topic_id, c.topic_name, c.status_id, c.status_name, c.priority, c.title, c.order_id,
       c.reporting_at, c.customer_reference
FROM customer_case_rows c
WHERE c.customer_id = $1
  AND (c.reporting_time, c.id) > ($2, $3)
ORDER BY c.reporting_time ASC, c.id ASC
LIMIT $4

-- customer_list_cases_search_after --
-- customer_list_cases_after with a title search ($4 contains; run with title_search_plans).
-- params: customer_id, bound_time, bound_id, title, limit
SELECT c.id, c.topic_id, c.topic_name, c.status_id, c.status_name, c.priority, c.title, c.order_id,
       c.reporting_at, c.customer_reference
FROM customer_case_rows c
WHERE c.customer_id = $1
  AND (c.reporting_time, c.id) < ($2, $3)
  AND c.title ILIKE $4
ORDER BY c.reporting_time DESC, c.id DESC
LIMIT $5

-- customer_list_cases_search_before --
-- The same list, the rows before the keyset bound (read backwards; the caller reverses them).
-- params: customer_id, bound_time, bound_id, title, limit
SELECT c.id, c.topic_id, c.topic_name, c.status_id, c.status_name, c.priority, c.title, c.order_id,
       c.reporting_at, c.customer_reference
FROM customer_case_rows c
WHERE c.customer_id = $1
  AND (c.reporting_time, c.id) > ($2, $3)
  AND c.title ILIKE $4
ORDER BY c.reporting_time ASC, c.id ASC
LIMIT $5

-- customer_list_cases_by_reference_after --
-- The customer's cases with reference $6 (cases_customer_reference_idx), newest first, after the keyset bound.
-- params: customer_id, bound_time, bound_id, title, limit, reference
SELECT c.id, c.topic_id, c.topic_name, c.status_id, c.status_name, c.priority, c.title, c.order_id,
       c.reporting_at, c.customer_reference
FROM customer_case_rows c
WHERE c.customer_id = $1 AND c.customer_reference = $6
  AND (c.reporting_time, c.id) < ($2, $3)
  AND ($4::text IS NULL OR c.title ILIKE $4)
ORDER BY c.reporting_time DESC, c.id DESC
LIMIT $5

-- customer_list_cases_by_reference_before --
-- The same list, the rows before the keyset bound (read backwards; the caller reverses them).
-- params: customer_id, bound_time, bound_id, title, limit, reference
SELECT c.id, c.topic_id, c.topic_name, c.status_id, c.status_name, c.priority, c.title, c.order_id,
       c.reporting_at, c.customer_reference
FROM customer_case_rows c
WHERE c.customer_id = $1 AND c.customer_reference = $6
  AND (c.reporting_time, c.id) > ($2, $3)
  AND ($4::text IS NULL OR c.title ILIKE $4)
ORDER BY c.reporting_time ASC, c.id ASC
LIMIT $5

-- list_cases --
-- A page of ListCases, newest first (by ID; by last modification for a time range without another driver; what is
-- due next first for the queue, read from case_service_levels in {source}, its due time the {sort_value}). The
-- handler fills in fixed fragments of its own whitelist (never request text): the keyset bound on $1 and the
-- page's index order (a driving filter's range and row comparison with the ID, the modification time and the
-- ID, or the ID alone), the other filters' conditions, the outer order (DESC after the bound, ASC before it:
-- read backwards, the handler reverses the rows), and the page size plus one. The page is taken
-- from the index first; only its rows are joined to the names they show (the page's size is in the statement,
-- so even its generic plan knows the page is small and looks each name up by its key).
SELECT c.id, c.title, c.priority, c.status_id, s.name AS status_name, s.color AS status_color,
       c.topic_id, t.name AS topic_name, c.customer_id, cu.first_name AS customer_first_name,
       cu.last_name AS customer_last_name, cu.email_address AS customer_email,
       c.assignee_id, a.first_name AS assignee_first_name, a.last_name AS assignee_last_name,
       c.assigned_organization_unit_id, au.name AS assigned_unit_name,
       c.originating_organization_unit_id, ou.name AS originating_unit_name,
       c.backend_id, c.external_order_identifier, c.order_id, eva_time(c.reporting_time) AS reporting_time,
       eva_time(c.creation_time) AS creation_time, eva_time(c.last_interaction_time) AS last_interaction_time,
       eva_time(c.last_modification_time) AS last_modification_time, c.created_by,
       cb.first_name AS created_by_first_name, cb.last_name AS created_by_last_name, c.last_modified_by,
       mb.first_name AS modified_by_first_name, mb.last_name AS modified_by_last_name, c.sort_value,
       coalesce(c.due_date, sl.resolution_due) AS due_date, sl.case_id IS NOT NULL AS has_service_level,
       sl.policy_id AS sla_policy_id, sl.policy_name AS sla_policy_name, sl.first_response_due,
       sl.first_response_time, sl.next_response_due, sl.resolution_due, sl.paused_since IS NOT NULL AS sla_paused,
       service_level_at_risk(sl, s.is_closed) AS sla_at_risk,
       coalesce(sl.first_response_warned_at, sl.next_response_warned_at, sl.resolution_warned_at) AS sla_warned_at,
       sl.first_response_breached_at, sl.next_response_breached_at, sl.resolution_breached_at,
       c.customer_reference, c.origin,
       ARRAY (SELECT g.tag FROM case_tags g WHERE g.case_id = c.id ORDER BY g.tag) AS tags
FROM (
    SELECT c.id, c.title, c.priority, c.status_id, c.topic_id, c.customer_id, c.assignee_id,
           c.assigned_organization_unit_id, c.originating_organization_unit_id, c.backend_id,
           c.external_order_identifier, c.order_id, c.reporting_time, c.creation_time, c.last_interaction_time,
           c.last_modification_time, c.created_by, c.last_modified_by, c.due_date, c.customer_reference, c.origin,
           {sort_value} AS sort_value
    FROM {source}
    WHERE NOT c.is_archived
      AND {keyset}
      {conditions}
    ORDER BY {order}
    LIMIT {limit}
) c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN case_topics t ON t.id = c.topic_id
LEFT JOIN users cu ON cu.id = c.customer_id
LEFT JOIN users a ON a.id = c.assignee_id
LEFT JOIN users cb ON cb.id = c.created_by
LEFT JOIN users mb ON mb.id = c.last_modified_by
LEFT JOIN organization_units au ON au.id = c.assigned_organization_unit_id
LEFT JOIN organization_units ou ON ou.id = c.originating_organization_unit_id
LEFT JOIN case_service_levels sl ON sl.case_id = c.id
ORDER BY {outer_order}

-- title_search_plans --
-- For the rest of the (read-only) transaction of a title search: plans made for the values, so that a title
-- pattern's frequency decides between the trigram index (cases_title_trgm_idx) and the list's own index, and
-- bitmap scans allowed (a trigram index has no other kind; the pool's connections otherwise leave them off).
SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('enable_bitmapscan', 'on', true)

-- receipt_case --
-- Case $1 for its receipt, if the caller may see it ($2: the caller as a case_viewer).
SELECT c.id, c.title, c.description, c.priority, c.reporting_time, c.closing_time, s.name AS status_name,
       topic_path(c.topic_id) AS topic, cu.first_name AS customer_first_name, cu.last_name AS customer_last_name
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN users cu ON cu.id = c.customer_id
WHERE c.id = $1
  AND case_visible(c.assigned_organization_unit_id, c.assignee_id, c.created_by, $2)

-- receipt_messages --
-- The latest $2 public messages of case $1 (Communication and Email: never notes, callbacks or ledger lines),
-- oldest first, with their authors, and how many there are in all.
SELECT m.type, m.creation_time, m.text, u.first_name, u.last_name, m.total
FROM (
    SELECT i.id, i.type, i.creation_time, i.text, i.created_by, count(*) OVER () AS total
    FROM interactions i
    WHERE i.case_id = $1 AND i.type IN (0, 3)
    ORDER BY i.creation_time DESC, i.id DESC
    LIMIT $2
) m
LEFT JOIN users u ON u.id = m.created_by
ORDER BY m.creation_time, m.id
