-- add_ledger_lines --
-- Ledger lines naming what changed, in order (record_case_change, the seam in SQL), with the case's last
-- modification.
WITH touched AS (
    UPDATE cases SET last_modification_time = now(), last_modified_by = $2 WHERE id = $1 RETURNING id
)
SELECT record_case_change(touched.id, $2, $3) FROM touched

-- touch_case --
-- Case $1 changed by $2 without a ledger line (what customers must not read about: tags, links, staff-only
-- contacts): its last modification, which records the case's `updated` event.
UPDATE cases SET last_modification_time = now(), last_modified_by = $2 WHERE id = $1
