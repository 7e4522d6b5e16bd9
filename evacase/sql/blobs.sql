-- add_case_blobs --
-- Attach blob references ($2 GUIDs, $3 the URLs they came as) to case $1; a duplicate violates case_blobs_unique.
INSERT INTO case_blobs (case_id, blob_id, url, created_by)
SELECT $1, b.blob_id, b.url, $4
FROM unnest($2::uuid[], $3::text[]) AS b (blob_id, url)

-- remove_case_blob --
-- Detach one blob from case $1; no row when it was not attached.
DELETE FROM case_blobs WHERE case_id = $1 AND blob_id = $2 RETURNING blob_id

-- add_interaction_blobs --
-- Attach blob references to interaction $1; a duplicate violates interaction_blobs_unique.
INSERT INTO interaction_blobs (interaction_id, blob_id, url, created_by)
SELECT $1, b.blob_id, b.url, $4
FROM unnest($2::uuid[], $3::text[]) AS b (blob_id, url)

-- remove_interaction_blob --
-- Detach one blob from interaction $1; no row when it was not attached.
DELETE FROM interaction_blobs WHERE interaction_id = $1 AND blob_id = $2 RETURNING blob_id

-- list_case_blobs --
-- The blobs of case $1 in the order they were attached, if the caller may see the case ($2: the caller's
-- organization units, null for all); no row at all when the case is not there for them, one row with a null
-- blob when it has none.
SELECT b.blob_id, b.url, b.creation_time
FROM cases c
LEFT JOIN case_blobs b ON b.case_id = c.id
WHERE c.id = $1
  AND visible_to_units(c.assigned_organization_unit_id, $2)
ORDER BY b.position
