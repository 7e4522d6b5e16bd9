-- Blobs: files uploaded with StoreBlob, or CreateBlob and then POST /blob/{Guid}. The metadata is always here;
-- the content is in the store named by `store` (`postgresql`: blob_chunks below; `file`, `s3`: outside). A blob
-- without content yet (CreateBlob's placeholder) has no size and no hash. `deleted_at` marks a blob being
-- deleted from an outside store: it is no longer served, and the purge job finishes what a crash interrupted
-- (content first, then this row), so no content is ever left without its row, nor a row without its content.
CREATE TABLE blobs (
    id uuid PRIMARY KEY,
    category text CONSTRAINT blobs_category_length CHECK (char_length(category) BETWEEN 1 AND 256),
    original_name text CONSTRAINT blobs_original_name_length CHECK (char_length(original_name) BETWEEN 1 AND 256),
    mime_type text NOT NULL CONSTRAINT blobs_mime_type_length CHECK (char_length(mime_type) BETWEEN 1 AND 255),
    store text NOT NULL CONSTRAINT blobs_store_known CHECK (store IN ('postgresql', 'file', 's3')),
    size bigint CONSTRAINT blobs_size_not_negative CHECK (size >= 0),
    sha256 bytea CONSTRAINT blobs_sha256_length CHECK (octet_length(sha256) = 32),
    created_by bigint NOT NULL CONSTRAINT blobs_created_by_fk REFERENCES users (id),
    creation_time timestamptz(3) NOT NULL DEFAULT now(),
    last_modification_time timestamptz(3) NOT NULL DEFAULT now(),
    expire_date timestamptz(3),
    deleted_at timestamptz(3),
    CONSTRAINT blobs_content_complete CHECK ((size IS NULL) = (sha256 IS NULL))
);
-- GetBlobInfo finds a blob by Category and OriginalName: the pair is unique (a blob without a name is temporary).
CREATE UNIQUE INDEX blobs_category_name_unique ON blobs (coalesce(category, ''), original_name)
    WHERE original_name IS NOT NULL;
-- The purge job reads blobs past their expiry, oldest first, and blobs left half deleted.
CREATE INDEX blobs_expire_idx ON blobs (expire_date) WHERE expire_date IS NOT NULL;
CREATE INDEX blobs_deleted_idx ON blobs (deleted_at) WHERE deleted_at IS NOT NULL;
-- Attachments of a blob, for DeleteBlob and the purge (the primary keys start with the case / interaction).
CREATE INDEX case_blobs_blob_idx ON case_blobs (blob_id);
CREATE INDEX interaction_blobs_blob_idx ON interaction_blobs (blob_id);

-- The content of blobs kept in PostgreSQL, in chunks (so nothing ever holds a whole large file in one value or
-- in memory); chunk `n` holds bytes n * chunk size onwards. Stored uncompressed: most uploads (images, PDF,
-- office files) are compressed already.
CREATE TABLE blob_chunks (
    blob_id uuid NOT NULL CONSTRAINT blob_chunks_blob_fk REFERENCES blobs (id) ON DELETE CASCADE,
    n integer NOT NULL CONSTRAINT blob_chunks_n_not_negative CHECK (n >= 0),
    data bytea NOT NULL,
    CONSTRAINT blob_chunks_pkey PRIMARY KEY (blob_id, n)
);
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

UPDATE schema_version SET version = 10;
