"""Blobs evacase stores (StoreBlob, CreateBlob and the upload to its Url): metadata in PostgreSQL, content in the
configured store, the limits (size, MIME types checked against the content) and who may attach what.

A new blob's row is written first, without content; its content is stored next and the row then records its size
and hash, once. In PostgreSQL all of it is one transaction; with an outside store the row is committed before the
content is written, so content never exists without its row (a crash in between leaves a blob without content,
which its expiry or DeleteBlob removes, content included)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import BinaryIO

import asyncpg

from evacase.auth import Caller
from evacase.db import load_queries
from evacase.domain.blob_stores import BlobStore
from evacase.domain.blob_types import SNIFF_BYTES, check_content, check_mime_type
from evacase.errors import (
    BlobAlreadyUploaded,
    BlobNotFound,
    BlobNotUploaded,
    BlobNotYours,
    BlobTooLarge,
    ValidationFailed,
)

SQL = load_queries("blobs")

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
SPOOL_IN_MEMORY = 1024 * 1024  # an upload up to this size stays in memory; a larger one goes to a temporary file


@dataclass(frozen=True, slots=True)
class UrlSigner:
    """EVACASE_BLOB_DOWNLOADS=signed: every blob URL evacase hands out carries an expiry and an HMAC of the GUID
    and that expiry (`?expires=<unix seconds>&signature=<hex>`, a key every instance shares), and a download
    needs a valid one. Otherwise (the default, as in EVA) the random GUID itself is the capability."""

    key: bytes
    lifetime: int  # seconds a signed URL stays valid

    def signature(self, guid: uuid.UUID, expires: int) -> str:
        return hmac.new(self.key, f"{guid}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def sign(self, url: str, guid: uuid.UUID, now: float | None = None) -> str:
        expires = int(now if now is not None else time.time()) + self.lifetime
        return f"{url}?expires={expires}&signature={self.signature(guid, expires)}"

    def valid(self, guid: uuid.UUID, expires: str | None, signature: str | None, now: float | None = None) -> bool:
        if not expires or not signature or not expires.isdigit():
            return False
        if int(expires) < (now if now is not None else time.time()):
            return False
        return hmac.compare_digest(signature, self.signature(guid, int(expires)))


@dataclass(frozen=True, slots=True)
class BlobSettings:
    """How this instance keeps blobs (EVACASE_BLOB_STORE, EVACASE_BLOB_MAX_BYTES, EVACASE_BLOB_MIME_TYPES,
    EVACASE_PUBLIC_URL, EVACASE_BLOB_DOWNLOADS)."""

    store: BlobStore
    max_bytes: int
    allowed: frozenset[str]
    public_url: str | None = None  # the base of blob URLs; None: the request's own origin
    signer: UrlSigner | None = None  # set in the signed-downloads mode

    def base_url(self, request_origin: str) -> str:
        return (self.public_url or request_origin).rstrip("/")

    def url(self, base: str, guid: uuid.UUID) -> str:
        """The blob's URL as evacase hands it out (signed in the signed-downloads mode)."""
        plain = blob_url(base, guid)
        return self.signer.sign(plain, guid) if self.signer is not None else plain


def blob_url(base: str, guid: uuid.UUID) -> str:
    return f"{base}/blob/{guid}"


@dataclass(slots=True)
class Upload:
    """Content received and not yet stored: spooled (memory, then a temporary file), measured and hashed."""

    file: BinaryIO
    size: int
    sha256: bytes
    head: bytes  # the first bytes, for the signature check


def upload_of(data: bytes, max_bytes: int) -> Upload:
    """StoreBlob's decoded `Data`."""
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (closed by its Upload's user)
    spooled.write(data)
    return Upload(spooled, len(data), hashlib.sha256(data).digest(), data[:SNIFF_BYTES])  # type: ignore[arg-type]


async def spool(chunks: AsyncIterator[bytes], max_bytes: int) -> Upload:
    """An upload's body, refused (413) as soon as it passes `max_bytes`: the rest is never read."""
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise too_large(max_bytes)
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
            digest.update(chunk)
            spooled.write(chunk)
    except BaseException:
        spooled.close()
        raise
    return Upload(spooled, size, digest.digest(), head)  # type: ignore[arg-type]


def too_large(max_bytes: int) -> BlobTooLarge:
    return BlobTooLarge(f"A blob may hold at most {max_bytes} bytes.", data={"MaxBytes": max_bytes})


def decode_data(text: str, max_bytes: int) -> bytes:
    """StoreBlob's base64 `Data` (standard or URL-safe alphabet, padding optional)."""
    if len(text) > (max_bytes + 2) // 3 * 4 + 4:
        raise too_large(max_bytes)
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except ValueError:
        raise ValidationFailed("Data is not valid base64.", data={"Field": "Data"}) from None


@dataclass(frozen=True, slots=True)
class NewBlob:
    mime_type: str
    category: str | None = None
    original_name: str | None = None
    expire_date: dt.datetime | None = None


async def create_blob(
    conn: asyncpg.Connection, settings: BlobSettings, caller: Caller, blob: NewBlob, upload: Upload | None
) -> tuple[uuid.UUID, dt.datetime | None]:
    """A new blob (StoreBlob with its content, CreateBlob without): its GUID and expiry."""
    mime_type = check_mime_type(blob.mime_type, settings.allowed)
    if upload is not None:
        check_content(mime_type, upload.head)
    guid = uuid.uuid4()
    inside = settings.store.kind == "postgresql"
    async with conn.transaction():
        row = await conn.fetchrow(
            *SQL.bound(
                "insert_blob",
                id=guid,
                category=blob.category or None,
                original_name=blob.original_name or None,
                mime_type=mime_type,
                store=settings.store.kind,
                created_by=caller.user_id,
                expire_date=blob.expire_date,
            )
        )
        if upload is not None and inside:
            await write_content(conn, settings.store, guid, upload)
    if upload is not None and not inside:
        async with conn.transaction():
            await write_content(conn, settings.store, guid, upload)
    return guid, row["expire_date"]


async def write_content(conn: asyncpg.Connection, store: BlobStore, guid: uuid.UUID, upload: Upload) -> None:
    """Store the content and record it on the blob's row, once (in the caller's transaction): the row is locked
    first, so of two simultaneous uploads one stores its bytes and the other is a 409 that wrote nothing."""
    if await conn.fetchval(SQL["claim_upload"], guid) is None:
        raise BlobAlreadyUploaded()
    await store.put(conn, guid, upload.file)
    await conn.execute(SQL["set_content"], guid, upload.size, upload.sha256)


def gone(blob: asyncpg.Record) -> bool:
    """Whether a blob (get_blob's row) is gone for everyone although its row is still there: expired with nothing
    holding it (no longer served, and purged soon)."""
    return bool(blob["expired"] and not blob["attached"])


async def finish_deletion(conn: asyncpg.Connection, store: BlobStore, guid: uuid.UUID) -> None:
    """The last steps of deleting a blob from an outside store, its row already marked: the content, then the row
    (a crash in between leaves the row marked, and the purge job does this again)."""
    await store.remove(conn, guid)
    await conn.execute(SQL["delete_blob"], guid)


def may_upload(caller: Caller, blob: asyncpg.Record) -> bool:
    """The user who created a blob uploads its content; so may staff (an Employee, System or Api user)."""
    return caller.user_id == blob["created_by"] or caller.is_staff


async def check_attachable(conn: asyncpg.Connection, caller: Caller, case_id: int, guids: list[uuid.UUID]) -> None:
    """Only stored blobs with content may be attached; a customer only those they uploaded themselves, or ones
    already on that case."""
    rows = {r["id"]: r for r in await conn.fetch(SQL["attachable_blobs"], guids, case_id)}
    customer = not caller.is_staff
    for guid in guids:
        row = rows.get(guid)
        if row is None:
            raise BlobNotFound(
                f"There is no blob `{guid}`: store it first (StoreBlob, or CreateBlob and an upload to its Url).",
                data={"BlobID": str(guid)},
            )
        if not row["uploaded"]:
            raise BlobNotUploaded(data={"BlobID": str(guid)})
        if customer and row["created_by"] != caller.user_id and not row["on_case"]:
            raise BlobNotYours(data={"BlobID": str(guid)})
