-- add_contacts --
-- Contacts added to case $1 by $3 ($2: a JSON array of {type, user_id, first_name, last_name, email_address,
-- phone_number, is_staff_only}, distinct by type and key); one with the type and key of a stored contact updates
-- it (what it leaves out is kept). Each with whether it is new, and how many the case held before.
WITH stored AS (
    SELECT count(*) AS n FROM case_contacts WHERE case_id = $1
)
INSERT INTO case_contacts AS k (case_id, type, user_id, first_name, last_name, email_address, phone_number,
                                is_staff_only, created_by)
SELECT $1, x.type, x.user_id, x.first_name, x.last_name, x.email_address, x.phone_number, x.is_staff_only, $3
FROM jsonb_to_recordset($2::jsonb) AS x (type text, user_id bigint, first_name text, last_name text,
                                         email_address text, phone_number text, is_staff_only boolean)
ON CONFLICT (case_id, type, contact_key) DO UPDATE
SET first_name = coalesce(excluded.first_name, k.first_name), last_name = coalesce(excluded.last_name, k.last_name),
    email_address = coalesce(excluded.email_address, k.email_address),
    phone_number = coalesce(excluded.phone_number, k.phone_number), is_staff_only = excluded.is_staff_only
RETURNING k.id, k.type, k.is_staff_only, k.xmax = 0 AS inserted, (SELECT n FROM stored) AS stored_before

-- remove_contact --
-- Contact $2 of case $1 removed (with $3, a customer's request: only one customers see); its type and whether it
-- was staff-only, no row when there is none.
DELETE FROM case_contacts
WHERE case_id = $1 AND id = $2 AND NOT ($3 AND is_staff_only)
RETURNING type, is_staff_only

-- case_contacts --
-- The contacts of case $1 in the order they were added (with $2, a customer's view: not the staff-only ones),
-- a watcher with its user's names where the contact has none.
SELECT k.id, k.type, k.user_id, coalesce(k.first_name, u.first_name) AS first_name,
       coalesce(k.last_name, u.last_name) AS last_name, coalesce(k.email_address, u.email_address) AS email_address,
       k.phone_number, k.is_staff_only
FROM case_contacts k
LEFT JOIN users u ON u.id = k.user_id
WHERE k.case_id = $1 AND NOT ($2 AND k.is_staff_only)
ORDER BY k.id

-- contacts_of_cases --
-- The contacts of cases $1 as case_contacts gives them, by case (the change feed's pages).
SELECT k.case_id, k.id, k.type, k.user_id, coalesce(k.first_name, u.first_name) AS first_name,
       coalesce(k.last_name, u.last_name) AS last_name, coalesce(k.email_address, u.email_address) AS email_address,
       k.phone_number, k.is_staff_only
FROM case_contacts k
LEFT JOIN users u ON u.id = k.user_id
WHERE k.case_id = ANY ($1::bigint[]) AND NOT ($2 AND k.is_staff_only)
ORDER BY k.case_id, k.id
