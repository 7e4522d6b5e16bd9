-- create_case --
-- A customer's new case with its opening ledger lines ($6), in one statement. The case is not written when
-- the topic does not exist (topic_ok), the order is known to belong to someone else (order_ok) or a required
-- custom field is missing (missing_field_id). Custom field values: $9 field IDs and $10 values as checked by the
-- handler (defaults included) with $11 the private note recording them; when $9 is null (the request named no
-- custom fields) the fields' defaults are stored and a required field a customer may edit, without a default,
-- is missing.
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
                       created_by, last_modified_by)
    SELECT $1, topic.id, $3, $4, $5, $7, $8, $1, $1
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
)
SELECT (SELECT id FROM new_case) AS case_id,
       EXISTS (SELECT 1 FROM topic) AS topic_ok,
       NOT EXISTS (SELECT 1 FROM foreign_order) AS order_ok,
       (SELECT m.id FROM missing m ORDER BY m.id LIMIT 1) AS missing_field_id,
       (SELECT m.name FROM missing m ORDER BY m.id LIMIT 1) AS missing_field_name

-- get_case --
-- One case of the customer $2, with topic, status and blob IDs, and whether customers see any custom field.
SELECT c.id, c.topic_id, t.name AS topic_name, c.status_id, s.name AS status_name, s.is_closed,
       c.priority, c.title, c.description, c.order_id, c.is_warranty, c.reporting_time, c.closing_time,
       c.solution, c.assignee_id,
       ARRAY (SELECT b.blob_id FROM case_blobs b WHERE b.case_id = c.id ORDER BY b.position)
           AS blob_ids,
       EXISTS (SELECT 1 FROM custom_fields f WHERE f.visible_mask & 2 <> 0) AS has_custom_fields
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN case_topics t ON t.id = c.topic_id
WHERE c.id = $1 AND c.customer_id = $2

-- get_topic --
-- A topic a case may be filed under (not deleted).
SELECT id, name FROM case_topics WHERE id = $1 AND NOT is_deleted

-- update_case --
-- Title, description and topic of a case, as the customer edited them.
UPDATE cases SET title = $2, description = $3, topic_id = $4 WHERE id = $1

-- list_cases_after --
-- A page of the customer's cases, newest first, after the keyset bound ($2, $3); $4 title contains.
SELECT c.id, c.topic_id, t.name AS topic_name, c.status_id, s.name AS status_name, c.priority, c.title,
       c.order_id, c.reporting_time
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN case_topics t ON t.id = c.topic_id
WHERE c.customer_id = $1
  AND (c.reporting_time, c.id) < ($2, $3)
  AND ($4::text IS NULL OR c.title ILIKE $4)
ORDER BY c.reporting_time DESC, c.id DESC
LIMIT $5

-- list_cases_before --
-- The same list, the rows before the keyset bound (read backwards; the caller reverses them).
SELECT c.id, c.topic_id, t.name AS topic_name, c.status_id, s.name AS status_name, c.priority, c.title,
       c.order_id, c.reporting_time
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN case_topics t ON t.id = c.topic_id
WHERE c.customer_id = $1
  AND (c.reporting_time, c.id) > ($2, $3)
  AND ($4::text IS NULL OR c.title ILIKE $4)
ORDER BY c.reporting_time ASC, c.id ASC
LIMIT $5
