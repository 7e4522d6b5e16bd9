-- lock_case --
-- Case $1, locked for the rest of the transaction (no row when it does not exist). Only the case row, with no
-- join or filter: under READ COMMITTED PostgreSQL re-checks a locked row's query against what a concurrent
-- change committed, and a join against the case's *old* status drops the case (a 404 for a case that exists).
SELECT id FROM cases WHERE id = $1 FOR UPDATE

-- lock_case_of_interaction --
-- The case of interaction $1, locked for the rest of the transaction (an interaction never changes cases).
SELECT c.id FROM cases c WHERE c.id = (SELECT i.case_id FROM interactions i WHERE i.id = $1) FOR UPDATE

-- share_status --
-- Status $1 as a case moving into it sees it, share-locked until the transaction ends: a concurrent
-- UpdateCaseStatus (IsClosed) or DeleteCaseStatus waits for the move, or the move waits and sees its result.
SELECT id, name, is_closed, action FROM case_statuses WHERE id = $1 FOR SHARE

-- lock_status --
-- Status $1, locked for a change (cases moving into it wait); what cases use it is read after the lock.
SELECT id, name, description, backend_id, color, action, is_closed, is_system, script_id
FROM case_statuses
WHERE id = $1
FOR UPDATE

-- status_in_use --
-- Whether any case is in status $1 (read after lock_status, so every move into it has committed or waits).
SELECT EXISTS (SELECT 1 FROM cases c WHERE c.status_id = $1)
