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
