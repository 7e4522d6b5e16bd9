-- lock_case --
-- Case $1, locked for the rest of the transaction (no row when it does not exist). Only the case row, with no
-- join or filter: under READ COMMITTED PostgreSQL re-checks a locked row's query against what a concurrent
-- change committed, and a join against the case's *old* status drops the case (a 404 for a case that exists).
SELECT id FROM cases WHERE id = $1 FOR UPDATE

-- lock_case_of_interaction --
-- The case of interaction $1, locked for the rest of the transaction (an interaction never changes cases).
SELECT c.id FROM cases c WHERE c.id = (SELECT i.case_id FROM interactions i WHERE i.id = $1) FOR UPDATE

-- lock_status --
-- Status $1, locked for a change (cases moving into it wait); what cases use it is read after the lock.
SELECT id, name, description, backend_id, color, action, is_closed, is_system, script_id, pauses_service_level,
       auto_close_after_hours, auto_close_status_id, reopen_status_id
FROM case_statuses
WHERE id = $1
FOR UPDATE

-- status_in_use --
-- Whether any case is in status $1 (read after lock_status, so every move into it has committed or waits).
SELECT EXISTS (SELECT 1 FROM cases c WHERE c.status_id = $1)

-- staff_case --
-- Case $1 for an employee's change, once locked (lock_case), if the caller may see it ($2: the caller as a
-- case_viewer).
SELECT c.id, c.title, c.description, c.priority, c.status_id, s.name AS status_name, s.is_closed, c.topic_id,
       c.customer_id, c.order_id, c.assignee_id, c.assigned_organization_unit_id, c.originating_organization_unit_id,
       c.backend_id, c.external_order_identifier, c.solution, c.summary, c.is_archived, c.due_date,
       c.customer_reference, (SELECT count(*) FROM case_blobs b WHERE b.case_id = c.id) AS blob_count
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
WHERE c.id = $1
  AND case_visible(c.assigned_organization_unit_id, c.assignee_id, c.created_by, $2)

-- customer_case --
-- Case $1 for a change by its customer $2, once locked (lock_case).
SELECT c.id, c.topic_id, c.title, c.description, c.assignee_id, s.is_closed, c.customer_reference, c.status_id,
       c.closing_time, c.is_archived, (SELECT count(*) FROM case_blobs b WHERE b.case_id = c.id) AS blob_count
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
WHERE c.id = $1 AND c.customer_id = $2

-- staff_interaction --
-- Interaction $1 for an employee's change, locked, if the caller may see its case ($2 as in staff_case); its
-- case is locked first (lock_case_of_interaction).
SELECT i.id, i.case_id, i.type, i.backend_id, i.created_by, c.is_archived,
       (SELECT count(*) FROM interaction_blobs b WHERE b.interaction_id = i.id) AS blob_count
FROM interactions i
JOIN cases c ON c.id = i.case_id
WHERE i.id = $1
  AND case_visible(c.assigned_organization_unit_id, c.assignee_id, c.created_by, $2)
FOR UPDATE OF i

-- customer_interaction --
-- Interaction $1 of a type in $3 on a case of customer $2, for a change, locked; its case is locked first
-- (lock_case_of_interaction).
SELECT i.id, i.case_id, i.type, i.created_by, s.is_closed,
       (SELECT count(*) FROM interaction_blobs b WHERE b.interaction_id = i.id) AS blob_count
FROM interactions i
JOIN cases c ON c.id = i.case_id
JOIN case_statuses s ON s.id = c.status_id
WHERE i.id = $1 AND c.customer_id = $2 AND i.type = ANY ($3::integer[])
FOR UPDATE OF i

-- lock_case_and_status --
-- Case $1 locked for a state change, then status $2 (null: none named) key-share-locked, in that order: a
-- concurrent UpdateCaseStatus (IsClosed) or DeleteCaseStatus (lock_status: FOR UPDATE) waits for the move, or the
-- move waits and sees its result.
SELECT (SELECT id FROM cases WHERE id = $1 FOR UPDATE) AS case_id,
       (SELECT id FROM case_statuses WHERE id = $2 FOR KEY SHARE) AS status_id
