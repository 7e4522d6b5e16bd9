-- CustomerListCases' six statements (plain, title search, by reference; each way) read their rows from one view:
-- a case with its topic's and status's names and its reporting time as EVA writes it. A simple view: the planner
-- flattens it into each statement (the same plans, tests/test_query_plans.py).

CREATE VIEW customer_case_rows AS
SELECT c.id, c.topic_id, t.name AS topic_name, c.status_id, s.name AS status_name, c.priority, c.title,
       c.order_id, c.reporting_time, eva_time(c.reporting_time) AS reporting_at, c.customer_reference,
       c.customer_id
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN case_topics t ON t.id = c.topic_id;

UPDATE schema_version SET version = 18;
