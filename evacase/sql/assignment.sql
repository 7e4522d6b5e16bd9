-- create_rule --
-- A new assignment rule.
-- params: name, position, priorities, topic_ids, organization_unit_ids, origins, assignee_ids, method,
-- params: max_open_cases_per_assignee
INSERT INTO assignment_rules (name, position, priorities, topic_ids, organization_unit_ids, origins, assignee_ids,
                              method, max_open_cases_per_assignee)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id

-- lock_rule --
-- One rule, locked for a change.
SELECT * FROM assignment_rules WHERE id = $1 FOR UPDATE

-- update_rule --
-- A rule's fields as merged by the handler (its round-robin position is kept).
-- params: id, name, position, priorities, topic_ids, organization_unit_ids, origins, assignee_ids, method,
-- params: max_open_cases_per_assignee
UPDATE assignment_rules
SET name = $2, position = $3, priorities = $4, topic_ids = $5, organization_unit_ids = $6, origins = $7,
    assignee_ids = $8, method = $9, max_open_cases_per_assignee = $10, last_modification_time = now()
WHERE id = $1

-- delete_rule --
-- Remove a rule.
DELETE FROM assignment_rules WHERE id = $1 RETURNING id

-- list_rules_after --
-- A page of rules in the order they apply (Position, then ID), after the keyset bound ($1, $2).
-- params: position, rule_id, limit
SELECT * FROM assignment_rules WHERE (position, id) > ($1, $2) ORDER BY position, id LIMIT $3

-- list_rules_before --
-- The same list, the rows before the keyset bound (read backwards; the caller reverses them).
-- params: position, rule_id, limit
SELECT * FROM assignment_rules WHERE (position, id) < ($1, $2) ORDER BY position DESC, id DESC LIMIT $3

-- not_employees --
-- Which of the IDs $1 are not known employees (or system users).
SELECT coalesce(array_agg(e.id ORDER BY e.id), '{}') FROM unnest($1::bigint[]) AS e (id)
WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = e.id AND u.user_type & 1 <> 0)

-- set_availability --
-- Whether employee $1 takes automatically assigned cases; their cases waiting for someone are tried again by the
-- scheduler. False when $1 is no known employee.
WITH u AS (
    SELECT id FROM users WHERE id = $1 AND user_type & 1 <> 0
), written AS (
    INSERT INTO employee_availability (user_id, is_available)
    SELECT id, $2 FROM u
    ON CONFLICT (user_id) DO UPDATE SET is_available = excluded.is_available, last_modification_time = now()
    RETURNING user_id
)
SELECT EXISTS (SELECT 1 FROM written)

-- assign_waiting --
-- The scheduler's step: cases waiting for an assignee, a batch of $1 (SKIP LOCKED), assigned now if someone is
-- available (as evacase, $2). The number assigned (those still waiting are tried again next time).
-- params: limit, actor
WITH waiting AS (
    SELECT id FROM cases WHERE awaiting_assignment ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
)
SELECT count(*) FILTER (WHERE tried.assignee IS NOT NULL)::integer
FROM (SELECT auto_assign_case(waiting.id, $2) AS assignee FROM waiting) AS tried
