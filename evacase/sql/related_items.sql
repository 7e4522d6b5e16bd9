-- order_customer --
-- The customer of an order evacase knows.
SELECT customer_id FROM orders WHERE id = $1

-- set_order --
-- The case's order, external order identifier and customer, as merged by the handler.
UPDATE cases SET order_id = $2, external_order_identifier = $3, customer_id = $4 WHERE id = $1

-- add_items --
-- Related items for case $1 (parallel arrays, in order), by user $8.
-- params: case_id, order_line_ids, product_ids, serial_numbers, is_warranty, warranty_expirations, infos, actor
INSERT INTO case_related_items (case_id, order_line_id, product_id, serial_number, is_warranty,
                                warranty_expiration, warranty_additional_information, created_by)
SELECT $1, i.order_line_id, i.product_id, i.serial_number, i.is_warranty, i.warranty_expiration, i.info, $8
FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::boolean[], $6::timestamptz[], $7::text[])
         WITH ORDINALITY AS i (order_line_id, product_id, serial_number, is_warranty, warranty_expiration, info, n)
ORDER BY i.n

-- remove_items --
-- Remove items $2 of case $1 (all of them when $3); the IDs removed.
DELETE FROM case_related_items WHERE case_id = $1 AND ($3 OR id = ANY ($2::bigint[])) RETURNING id
