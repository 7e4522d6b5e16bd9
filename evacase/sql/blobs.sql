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
-- The blobs of case $1 in the order they were attached, if the caller may see the case ($2: the caller as a
-- case_viewer); no row at all when the case is not there for them, one row with a null
-- blob when it has none.
SELECT b.blob_id, b.url, b.creation_time, s.original_name, s.mime_type
FROM cases c
LEFT JOIN case_blobs b ON b.case_id = c.id
LEFT JOIN blobs s ON s.id = b.blob_id AND s.deleted_at IS NULL
WHERE c.id = $1
  AND case_visible(c.assigned_organization_unit_id, c.assignee_id, c.created_by, $2)
ORDER BY b.position

-- insert_blob --
-- A new blob's metadata, without content yet (set_content follows once it is stored). Without OriginalName a blob
-- is temporary: it expires after the setting Blobs:DefaultLifeTime (minutes; 1440 when unset) unless an
-- ExpireDate is given. A taken (Category, OriginalName) violates blobs_category_name_unique.
-- params: id, category, original_name, mime_type, store, created_by, expire_date
INSERT INTO blobs (id, category, original_name, mime_type, store, created_by, expire_date)
VALUES ($1, $2, $3, $4, $5, $6,
        coalesce($7, CASE WHEN $3::text IS NULL THEN now() + make_interval(mins => coalesce(
            (SELECT (s.value #>> '{}')::integer FROM settings s WHERE s.name = 'Blobs:DefaultLifeTime'), 1440)) END))
RETURNING id, expire_date

-- claim_upload --
-- Blob $1 locked for its content's upload, if it has none yet (a simultaneous upload waits, then finds it taken).
SELECT id FROM blobs WHERE id = $1 AND size IS NULL AND deleted_at IS NULL FOR UPDATE

-- set_content --
-- Blob $1's content is stored (its row claimed by claim_upload): its size $2 and SHA-256 $3.
UPDATE blobs SET size = $2, sha256 = $3, last_modification_time = now() WHERE id = $1

-- get_blob --
-- Blob $1, unless it is being deleted; `attached`: whether a case or an interaction holds it.
SELECT b.id, b.category, b.original_name, b.mime_type, b.store, b.size, b.sha256, b.created_by, b.creation_time,
       b.last_modification_time, b.expire_date, b.expire_date <= now() AS expired,
       EXISTS (SELECT 1 FROM case_blobs c WHERE c.blob_id = b.id)
       OR EXISTS (SELECT 1 FROM interaction_blobs i WHERE i.blob_id = b.id) AS attached
FROM blobs b
WHERE b.id = $1 AND b.deleted_at IS NULL

-- blob_by_name --
-- The blob with Category $1 (null: none) and OriginalName $2, unless it is being deleted.
SELECT b.id FROM blobs b
WHERE coalesce(b.category, '') = coalesce($1, '') AND b.original_name = $2 AND b.deleted_at IS NULL

-- lock_blob --
-- Blob $1 locked for its deletion (attachments of it wait, or are seen).
SELECT id, store FROM blobs WHERE id = $1 AND deleted_at IS NULL FOR UPDATE

-- blob_attachments --
-- The cases holding blob $1 directly or on one of their interactions (locked by the caller), with the
-- interactions, for a detachment everywhere.
SELECT cb.case_id, NULL::bigint AS interaction_id, NULL::integer AS interaction_type
FROM case_blobs cb WHERE cb.blob_id = $1
UNION ALL
SELECT i.case_id, ib.interaction_id, i.type FROM interaction_blobs ib JOIN interactions i ON i.id = ib.interaction_id
WHERE ib.blob_id = $1
ORDER BY 1, 2 NULLS FIRST

-- detach_everywhere --
-- Blob $1 off every case and interaction; the rows removed.
WITH c AS (DELETE FROM case_blobs WHERE blob_id = $1 RETURNING 1),
     i AS (DELETE FROM interaction_blobs WHERE blob_id = $1 RETURNING 1)
SELECT (SELECT count(*) FROM c) + (SELECT count(*) FROM i)

-- mark_deleted --
-- Blob $1 is being deleted from an outside store: no longer served; the row goes once its content has.
UPDATE blobs SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL

-- delete_blob --
-- Blob $1's row (its chunks in PostgreSQL go with it).
DELETE FROM blobs WHERE id = $1

-- attachable_blobs --
-- Of the GUIDs $1, the stored blobs (not being deleted), share-locked until the attachment commits (a DeleteBlob
-- waits for it, then sees it), with who uploaded them; `on_case`: whether case $2 already holds it, directly or
-- on one of its interactions.
SELECT b.id, b.created_by, b.size IS NOT NULL AS uploaded,
       EXISTS (SELECT 1 FROM case_blobs c WHERE c.case_id = $2 AND c.blob_id = b.id)
       OR EXISTS (SELECT 1 FROM interaction_blobs ib JOIN interactions i ON i.id = ib.interaction_id
                  WHERE i.case_id = $2 AND ib.blob_id = b.id) AS on_case
FROM blobs b
WHERE b.id = ANY ($1::uuid[]) AND b.deleted_at IS NULL
FOR SHARE OF b

-- put_chunk --
-- Chunk $2 of blob $1's content, kept in PostgreSQL.
INSERT INTO blob_chunks (blob_id, n, data) VALUES ($1, $2, $3)

-- chunks --
-- Chunks $2 to $3 of blob $1's content, in order.
SELECT n, data FROM blob_chunks WHERE blob_id = $1 AND n BETWEEN $2 AND $3 ORDER BY n

-- delete_chunks --
-- Blob $1's content kept in PostgreSQL.
DELETE FROM blob_chunks WHERE blob_id = $1

-- expired_blobs --
-- Up to $1 blobs past their expiry, not being deleted and not attached, oldest first, locked for the purge (a
-- blob an attachment in progress holds share-locked is skipped this time); an attachment committed since this
-- statement began is seen by purge_expired, which reads after the lock.
SELECT b.id FROM blobs b
WHERE b.expire_date <= now() AND b.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM case_blobs c WHERE c.blob_id = b.id)
  AND NOT EXISTS (SELECT 1 FROM interaction_blobs i WHERE i.blob_id = b.id)
ORDER BY b.expire_date
LIMIT $1
FOR UPDATE OF b SKIP LOCKED

-- purge_expired --
-- Of the locked blobs $1, those no case or interaction holds: deleted outright when their content is in
-- PostgreSQL (its chunks go with them), else marked deleted for the content to go first (deleted_blobs).
WITH unattached AS (
    SELECT b.id, b.store FROM blobs b
    WHERE b.id = ANY ($1::uuid[])
      AND NOT EXISTS (SELECT 1 FROM case_blobs c WHERE c.blob_id = b.id)
      AND NOT EXISTS (SELECT 1 FROM interaction_blobs i WHERE i.blob_id = b.id)
), gone AS (
    DELETE FROM blobs b USING unattached u WHERE b.id = u.id AND u.store = 'postgresql' RETURNING b.id
), marked AS (
    UPDATE blobs b SET deleted_at = now() FROM unattached u WHERE b.id = u.id AND u.store <> 'postgresql'
    RETURNING b.id
)
SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM marked)

-- deleted_blobs --
-- Up to $1 blobs marked deleted (by DeleteBlob or the purge, perhaps interrupted), locked: their content goes,
-- then their row.
SELECT id, store FROM blobs WHERE deleted_at IS NOT NULL ORDER BY deleted_at LIMIT $1 FOR UPDATE SKIP LOCKED

-- blob_reference --
-- A blob attached by reference before evacase stored blobs (no row in blobs): when it was first attached, and
-- the URL it came as.
SELECT r.blob_id, r.url, r.creation_time
FROM (
    SELECT b.blob_id, b.url, b.creation_time FROM case_blobs b WHERE b.blob_id = $1
    UNION ALL
    SELECT b.blob_id, b.url, b.creation_time FROM interaction_blobs b WHERE b.blob_id = $1
) r
ORDER BY r.creation_time
LIMIT 1
