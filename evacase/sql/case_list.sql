-- list_cases --
-- A page of ListCases, newest first (by ID). The handler fills the conditions with fixed fragments of its own
-- whitelist (never request text), and the direction: `< $1`, `DESC` after the keyset bound, `> $1`, `ASC`
-- before it (read backwards; the handler reverses the rows). $2 is the page size plus one.
SELECT c.id, c.title, c.priority, c.status_id, s.name AS status_name, s.color AS status_color,
       c.topic_id, t.name AS topic_name, c.customer_id, cu.first_name AS customer_first_name,
       cu.last_name AS customer_last_name, cu.email_address AS customer_email,
       c.assignee_id, a.first_name AS assignee_first_name, a.last_name AS assignee_last_name,
       c.assigned_organization_unit_id, au.name AS assigned_unit_name,
       c.originating_organization_unit_id, ou.name AS originating_unit_name,
       c.backend_id, c.external_order_identifier, c.order_id, c.reporting_time, c.creation_time,
       c.last_interaction_time, c.last_modification_time, c.created_by, cb.first_name AS created_by_first_name,
       cb.last_name AS created_by_last_name, c.last_modified_by, mb.first_name AS modified_by_first_name,
       mb.last_name AS modified_by_last_name
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN case_topics t ON t.id = c.topic_id
LEFT JOIN users cu ON cu.id = c.customer_id
LEFT JOIN users a ON a.id = c.assignee_id
LEFT JOIN users cb ON cb.id = c.created_by
LEFT JOIN users mb ON mb.id = c.last_modified_by
LEFT JOIN organization_units au ON au.id = c.assigned_organization_unit_id
LEFT JOIN organization_units ou ON ou.id = c.originating_organization_unit_id
WHERE NOT c.is_archived
  AND c.id {bound}
  {conditions}
ORDER BY c.id {order}
LIMIT $2
