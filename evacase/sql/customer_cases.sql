-- create_case --
-- A customer's new case with its opening ledger lines ($6), in one statement. The case is not written when
-- the topic does not exist (topic_ok) or the order is known to belong to someone else (order_ok).
WITH topic AS (
    SELECT id FROM case_topics WHERE id = $2 AND NOT is_deleted
), foreign_order AS (
    SELECT 1 FROM orders WHERE id = $5 AND customer_id <> $1
), new_case AS (
    INSERT INTO cases (customer_id, topic_id, title, description, order_id, priority, status_id,
                       created_by, last_modified_by)
    SELECT $1, topic.id, $3, $4, $5, $7, $8, $1, $1
    FROM topic
    WHERE NOT EXISTS (SELECT 1 FROM foreign_order)
    RETURNING id
), ledger AS (
    INSERT INTO interactions (case_id, type, text, created_by)
    SELECT new_case.id, 2, l.text, $1
    FROM new_case, unnest($6::text[]) WITH ORDINALITY AS l (text, n)
    ORDER BY l.n
)
SELECT (SELECT id FROM new_case) AS case_id,
       EXISTS (SELECT 1 FROM topic) AS topic_ok,
       NOT EXISTS (SELECT 1 FROM foreign_order) AS order_ok

-- get_case --
-- One case of the customer $2, with topic, status and blob IDs.
SELECT c.id, c.topic_id, t.name AS topic_name, c.status_id, s.name AS status_name, s.is_closed,
       c.priority, c.title, c.description, c.order_id, c.is_warranty, c.reporting_time, c.closing_time,
       c.solution, c.assignee_id,
       ARRAY (SELECT b.blob_id FROM case_blobs b WHERE b.case_id = c.id ORDER BY b.position)
           AS blob_ids
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN case_topics t ON t.id = c.topic_id
WHERE c.id = $1 AND c.customer_id = $2

-- lock_case --
-- One case of the customer $2, locked for the rest of the transaction (serializes changes to a case).
SELECT c.id, c.topic_id, c.title, c.description, c.assignee_id, s.is_closed,
       (SELECT count(*) FROM case_blobs b WHERE b.case_id = c.id) AS blob_count
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
WHERE c.id = $1 AND c.customer_id = $2
FOR UPDATE OF c

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
