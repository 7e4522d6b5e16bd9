-- set_unit --
-- Create or update organization unit $1 (EVA's ID); a BackendID another unit has violates
-- organization_units_backend_id_unique.
INSERT INTO organization_units (id, backend_id, name) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET backend_id = excluded.backend_id, name = excluded.name

-- list_units_after --
-- A page of units, highest ID first, after the keyset bound $1; $2 name contains.
-- params: bound_id, name, limit
SELECT id, backend_id, name FROM organization_units
WHERE id < $1 AND ($2::text IS NULL OR name ILIKE $2)
ORDER BY id DESC
LIMIT $3

-- list_units_before --
-- The same list, the rows before the keyset bound (read backwards; the caller reverses them).
-- params: bound_id, name, limit
SELECT id, backend_id, name FROM organization_units
WHERE id > $1 AND ($2::text IS NULL OR name ILIKE $2)
ORDER BY id ASC
LIMIT $3
