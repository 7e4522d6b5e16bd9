"""Where blob contents live, behind one small interface: PostgreSQL (the default: chunks in `blob_chunks`, in the
transaction of the metadata), a local directory, or S3-compatible object storage. Chosen by EVACASE_BLOB_STORE;
the metadata is always in PostgreSQL (domain/stored_blobs.py).

Contents never change once stored (a blob's content is set once), so a download may read its chunks in several
short transactions, and a store's `put` under an existing key only ever rewrites the same bytes."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO, Protocol

import asyncpg

from evacase.db import load_queries
from evacase.pool import Pool

SQL = load_queries("blobs")

CHUNK_BYTES = 256 * 1024  # one blob_chunks row; also the size of each piece a download sends
CHUNKS_PER_READ = 4  # a download reads this many chunks per statement (1 MiB), each time on a fresh connection


class BlobStore(Protocol):
    kind: str  # what blobs.store records: postgresql, file, s3

    async def put(self, conn: asyncpg.Connection, guid: uuid.UUID, source: BinaryIO) -> None:
        """Store `source` (read from its start) as the content of `guid`; PostgreSQL writes in `conn`'s
        transaction, the others before it commits."""

    def read(self, pool: Pool, guid: uuid.UUID, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start` to `end` (exclusive) of the content, in pieces."""

    async def remove(self, conn: asyncpg.Connection, guid: uuid.UUID) -> None:
        """Remove the content (nothing happens when there is none)."""


class PostgresStore:
    kind = "postgresql"

    async def put(self, conn: asyncpg.Connection, guid: uuid.UUID, source: BinaryIO) -> None:
        source.seek(0)
        n = 0
        while chunk := source.read(CHUNK_BYTES):
            await conn.execute(SQL["put_chunk"], guid, n, chunk)
            n += 1

    async def read(self, pool: Pool, guid: uuid.UUID, start: int, end: int) -> AsyncIterator[bytes]:
        first, last = start // CHUNK_BYTES, (end - 1) // CHUNK_BYTES
        for batch in range(first, last + 1, CHUNKS_PER_READ):
            upto = min(batch + CHUNKS_PER_READ - 1, last)
            async with pool.acquire() as conn:
                rows = await conn.fetch(SQL["chunks"], guid, batch, upto)
            for row in rows:
                offset = row["n"] * CHUNK_BYTES
                data: bytes = row["data"]
                yield data[max(start - offset, 0) : max(min(end - offset, len(data)), 0)]

    async def remove(self, conn: asyncpg.Connection, guid: uuid.UUID) -> None:
        await conn.execute(SQL["delete_chunks"], guid)


class DirectoryStore:
    """One file per blob under `root/<first two hex digits>/<guid>`, written to a temporary name, flushed to disk
    and renamed, so a reader never sees half a file."""

    kind = "file"

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, guid: uuid.UUID) -> Path:
        return self.root / guid.hex[:2] / str(guid)

    async def put(self, conn: asyncpg.Connection, guid: uuid.UUID, source: BinaryIO) -> None:
        await asyncio.to_thread(self._write, guid, source)

    def _write(self, guid: uuid.UUID, source: BinaryIO) -> None:
        target = self.path(guid)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        source.seek(0)
        with partial.open("wb") as out:
            while chunk := source.read(CHUNK_BYTES):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(target)

    async def read(self, pool: Pool, guid: uuid.UUID, start: int, end: int) -> AsyncIterator[bytes]:
        with await asyncio.to_thread(self.path(guid).open, "rb") as f:
            await asyncio.to_thread(f.seek, start)
            left = end - start
            while left > 0:
                data = await asyncio.to_thread(f.read, min(CHUNK_BYTES, left))
                if not data:
                    return
                left -= len(data)
                yield data

    async def remove(self, conn: asyncpg.Connection, guid: uuid.UUID) -> None:
        await asyncio.to_thread(self.path(guid).unlink, missing_ok=True)


class S3Store:
    """One object per blob under `s3://bucket/prefix/<guid>`, on any S3-compatible service (AWS S3, MinIO, Ceph,
    R2), through boto3 (its calls run in worker threads). The endpoint, keys and region come from boto3's usual
    variables: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION."""

    kind = "s3"

    def __init__(self, bucket: str, prefix: str) -> None:
        import boto3  # only an instance that stores blobs in S3 loads it
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix.strip("/")
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30)
        self.client = boto3.session.Session().client("s3", config=config)

    def key(self, guid: uuid.UUID) -> str:
        return f"{self.prefix}/{guid}" if self.prefix else str(guid)

    async def put(self, conn: asyncpg.Connection, guid: uuid.UUID, source: BinaryIO) -> None:
        source.seek(0)
        await asyncio.to_thread(self.client.upload_fileobj, source, self.bucket, self.key(guid))

    async def read(self, pool: Pool, guid: uuid.UUID, start: int, end: int) -> AsyncIterator[bytes]:
        response = await asyncio.to_thread(
            self.client.get_object, Bucket=self.bucket, Key=self.key(guid), Range=f"bytes={start}-{end - 1}"
        )
        body = response["Body"]
        try:
            while data := await asyncio.to_thread(body.read, CHUNK_BYTES):
                yield data
        finally:
            body.close()

    async def remove(self, conn: asyncpg.Connection, guid: uuid.UUID) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self.key(guid))


def open_store(spec: str) -> BlobStore:
    """The store EVACASE_BLOB_STORE names: `postgresql` (default), `file:///path/to/dir`, `s3://bucket/prefix`."""
    if spec in ("", "postgresql"):
        return PostgresStore()
    if spec.startswith("file://"):
        root = Path(spec.removeprefix("file://"))
        if not root.is_absolute():
            raise ValueError(
                f"EVACASE_BLOB_STORE: a directory store needs an absolute path (file:///...), got {spec!r}"
            )
        return DirectoryStore(root)
    if spec.startswith("s3://"):
        bucket, _, prefix = spec.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError(f"EVACASE_BLOB_STORE: s3://bucket/prefix needs a bucket, got {spec!r}")
        return S3Store(bucket, prefix)
    raise ValueError(f"EVACASE_BLOB_STORE must be postgresql, file:///path or s3://bucket/prefix, got {spec!r}")
