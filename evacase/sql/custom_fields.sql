-- case_fields --
-- Every custom field of cases with its options, in display order.
SELECT id, name, display_name, backend_id, data_type, is_array, enum_values, is_required, minimum_length,
       maximum_length, minimum_value, maximum_value, minimum_date, maximum_date, regex, default_value,
       visible_mask, editable_mask
FROM custom_fields
WHERE type_id = 9
ORDER BY display_order, id

-- case_values --
-- The custom field values of case $1.
SELECT custom_field_id, value FROM case_custom_field_values WHERE case_id = $1

-- set_values --
-- Values ($3, JSON) of fields $2 on case $1, replacing what was there.
INSERT INTO case_custom_field_values (case_id, custom_field_id, value)
SELECT $1, v.field_id, v.value FROM unnest($2::bigint[], $3::jsonb[]) AS v (field_id, value)
ON CONFLICT (case_id, custom_field_id) DO UPDATE SET value = excluded.value

-- clear_values --
-- Remove the values of fields $2 from case $1.
DELETE FROM case_custom_field_values WHERE case_id = $1 AND custom_field_id = ANY ($2::bigint[])

-- add_note --
-- The private note ($2 = Note) recording custom-field changes on case $1, by user $4.
INSERT INTO interactions (case_id, type, text, created_by) VALUES ($1, $2, $3, $4)

-- create_field --
-- A new custom field; a name or BackendID already taken violates custom_fields_name_unique or
-- custom_fields_backend_id_unique.
-- params: type_id, name, display_name, input_hint, type_key, backend_id, data_type, is_array, enum_values,
-- params: display_order
INSERT INTO custom_fields (type_id, name, display_name, input_hint, type_key, backend_id, data_type, is_array,
                           enum_values, display_order)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)
RETURNING id

-- get_field --
-- One custom field with its options.
SELECT * FROM custom_fields WHERE id = $1

-- lock_field --
-- One custom field, locked for the rest of the transaction.
SELECT * FROM custom_fields WHERE id = $1 FOR UPDATE

-- update_field --
-- The editable parts of field $1, as merged by the handler.
-- params: field_id, name, display_name, input_hint, type_key, backend_id, enum_values, display_order
UPDATE custom_fields
SET name = $2, display_name = $3, input_hint = $4, type_key = $5, backend_id = $6, enum_values = $7::jsonb,
    display_order = $8
WHERE id = $1

-- delete_field --
-- Remove field $1; its values go with it (ON DELETE CASCADE), in the same statement. The number of values.
WITH gone AS (
    DELETE FROM custom_fields WHERE id = $1 RETURNING id
)
SELECT (SELECT count(*) FROM gone) AS deleted,
       (SELECT count(*) FROM case_custom_field_values v WHERE v.custom_field_id = $1) AS values_removed

-- list_fields_after --
-- A page of fields in list order (Order, then ID), after the keyset bound ($1, $2). Filters: $3 name contains,
-- $4 BackendID, $5 data type, $6 TypeKey; $7 the visible mask the caller needs (null: every field).
-- params: bound_order, bound_id, name, backend_id, data_type, type_key, visible_mask, limit
SELECT * FROM custom_fields
WHERE (display_order, id) > ($1, $2)
  AND ($3::text IS NULL OR name ILIKE $3)
  AND ($4::text IS NULL OR backend_id = $4)
  AND ($5::integer IS NULL OR data_type = $5)
  AND ($6::text IS NULL OR type_key = $6)
  AND ($7::integer IS NULL OR visible_mask & $7 <> 0)
ORDER BY display_order, id
LIMIT $8

-- list_fields_before --
-- The same list, the rows before the keyset bound (read backwards; the caller reverses them).
-- params: bound_order, bound_id, name, backend_id, data_type, type_key, visible_mask, limit
SELECT * FROM custom_fields
WHERE (display_order, id) < ($1, $2)
  AND ($3::text IS NULL OR name ILIKE $3)
  AND ($4::text IS NULL OR backend_id = $4)
  AND ($5::integer IS NULL OR data_type = $5)
  AND ($6::text IS NULL OR type_key = $6)
  AND ($7::integer IS NULL OR visible_mask & $7 <> 0)
ORDER BY display_order DESC, id DESC
LIMIT $8

-- set_options --
-- The options of field $1, as merged by the handler.
-- params: field_id, organization_unit_set_id, is_required, minimum_length, maximum_length, minimum_value,
-- params: maximum_value, minimum_date, maximum_date, regex, default_value, visible_by_user_types,
-- params: editable_by_user_types, eligibility_script_id, security_script_id
UPDATE custom_fields
SET options_set = true, organization_unit_set_id = $2, is_required = $3, minimum_length = $4, maximum_length = $5,
    minimum_value = $6, maximum_value = $7, minimum_date = $8, maximum_date = $9, regex = $10,
    default_value = $11::jsonb, visible_by_user_types = $12, editable_by_user_types = $13,
    eligibility_script_id = $14, security_script_id = $15
WHERE id = $1

-- unset_options --
-- Back to no options (visible to and editable by Employee, System and Api users only); no row: no such field.
UPDATE custom_fields
SET options_set = false, organization_unit_set_id = NULL, is_required = NULL, minimum_length = NULL,
    maximum_length = NULL, minimum_value = NULL, maximum_value = NULL, minimum_date = NULL, maximum_date = NULL,
    regex = NULL, default_value = NULL, visible_by_user_types = NULL, editable_by_user_types = NULL,
    eligibility_script_id = NULL, security_script_id = NULL
WHERE id = $1
RETURNING id

-- list_options_after --
-- A page of option sets (fields with options), highest field ID first, after the keyset bound $1. Filters:
-- $2 field, $3 organization unit sets.
-- params: bound_id, field_id, unit_sets, limit
SELECT * FROM custom_fields
WHERE options_set AND id < $1
  AND ($2::bigint IS NULL OR id = $2)
  AND ($3::bigint[] IS NULL OR organization_unit_set_id = ANY ($3))
ORDER BY id DESC
LIMIT $4

-- list_options_before --
-- The same list, the rows before the keyset bound (read backwards; the caller reverses them).
-- params: bound_id, field_id, unit_sets, limit
SELECT * FROM custom_fields
WHERE options_set AND id > $1
  AND ($2::bigint IS NULL OR id = $2)
  AND ($3::bigint[] IS NULL OR organization_unit_set_id = ANY ($3))
ORDER BY id ASC
LIMIT $4
