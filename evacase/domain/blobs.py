"""Blobs on cases and interactions: named by BlobID or by this evacase's blob URL (`<base>/blob/<GUID>`), stored
before they are attached (domain/stored_blobs.py); references attached before evacase stored blobs still count."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

import asyncpg
import msgspec

from evacase.auth import Caller
from evacase.db import load_queries
from evacase.domain.changes import record_case_change
from evacase.domain.stored_blobs import check_attachable
from evacase.errors import (
    BlobBlobIDAndUrlDiffer,
    BlobBlobIDOrUrlRequired,
    BlobDuplicateBlob,
    BlobInvalidBlobUrl,
    BlobNotFound,
    BlobTooManyBlobs,
)

MAX_BLOBS_PER_CASE = 50
MAX_BLOBS_PER_INTERACTION = 20
MAX_URLS_PER_REQUEST = 20

SQL = load_queries("blobs")

BlobUrl = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
BlobUrls = Annotated[list[BlobUrl], msgspec.Meta(max_length=MAX_URLS_PER_REQUEST)]
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def guid_in_url(url: str, base: str | None = None) -> uuid.UUID:
    """The blob's GUID in one of this evacase's blob URLs (`<base>/blob/<GUID>`, a query string allowed); with no
    `base`, the GUID inside any URL (the last one, if several: a reference to remove)."""
    if base is not None:
        path = url.split("?", 1)[0].split("#", 1)[0]
        prefix = f"{base}/blob/"
        if not path.startswith(prefix) or not _GUID.fullmatch(path[len(prefix) :]):
            raise BlobInvalidBlobUrl(f"A blob URL must be one of this evacase's: {prefix}<Guid>.", data={"Url": url})
        return uuid.UUID(path[len(prefix) :])
    found = _GUID.findall(url)
    if not found:
        raise BlobInvalidBlobUrl(data={"Url": url})
    return uuid.UUID(found[-1])


def blobs_to_add(
    blob_id: uuid.UUID | None, urls: list[str] | None, base: str | None = None
) -> list[tuple[uuid.UUID, str | None]]:
    """(GUID, URL) pairs named by a BlobID and/or BlobUrls (this evacase's, under `base`); at least one, none
    twice."""
    pairs: list[tuple[uuid.UUID, str | None]] = []
    if blob_id is not None:
        pairs.append((blob_id, None))
    pairs.extend((guid_in_url(url, base), url) for url in urls or [])
    if not pairs:
        raise BlobBlobIDOrUrlRequired()
    if len({guid for guid, _ in pairs}) != len(pairs):
        raise BlobDuplicateBlob()
    return pairs


def blob_to_remove(blob_id: uuid.UUID | None, url: str | None, base: str | None = None) -> uuid.UUID:
    """The GUID named by BlobID or BlobUrl (they must agree if both are given); with `base`, the URL must be one of
    this evacase's (see guid_in_url)."""
    from_url = guid_in_url(url, base) if url is not None else None
    if blob_id is None and from_url is None:
        raise BlobBlobIDOrUrlRequired("Either BlobID or BlobUrl is required.")
    if blob_id is not None and from_url is not None and blob_id != from_url:
        raise BlobBlobIDAndUrlDiffer()
    result = blob_id or from_url
    assert result is not None
    return result


def check_capacity(current: int, adding: int, limit: int, what: str) -> None:
    if current + adding > limit:
        raise BlobTooManyBlobs(f"A {what} can hold at most {limit} blobs.", data={"Limit": limit})


async def attach_to_case(
    conn: asyncpg.Connection,
    caller: Caller,
    case_id: int,
    blob_count: int,
    blob_id: uuid.UUID | None,
    urls: list[str] | None,
    base: str,
) -> None:
    """Attach the named blobs (stored ones the caller may attach; URLs under `base`) to a case (locked by the
    caller) and record them on its ledger."""
    pairs = blobs_to_add(blob_id, urls, base)
    check_capacity(blob_count, len(pairs), MAX_BLOBS_PER_CASE, "case")
    guids = [guid for guid, _ in pairs]
    await check_attachable(conn, caller, case_id, guids)
    user_id = caller.user_id
    await conn.execute(SQL["add_case_blobs"], case_id, guids, [url for _, url in pairs], user_id)
    await record_case_change(conn, case_id, user_id, [f"Blob `{g}` added to the case" for g in guids])


async def detach_from_case(conn: asyncpg.Connection, case_id: int, user_id: int, guid: uuid.UUID) -> None:
    if await conn.fetchval(SQL["remove_case_blob"], case_id, guid) is None:
        raise BlobNotFound()
    await record_case_change(conn, case_id, user_id, [f"Blob `{guid}` removed from the case"])


async def attach_to_interaction(
    conn: asyncpg.Connection,
    caller: Caller,
    interaction: asyncpg.Record,
    blob_id: uuid.UUID | None,
    urls: list[str] | None,
    base: str,
    *,
    ledger: bool,
) -> None:
    """Attach the named blobs (as attach_to_case) to an interaction (locked by the caller); a ledger line when
    `ledger`."""
    pairs = blobs_to_add(blob_id, urls, base)
    check_capacity(interaction["blob_count"], len(pairs), MAX_BLOBS_PER_INTERACTION, "interaction")
    guids = [guid for guid, _ in pairs]
    await check_attachable(conn, caller, interaction["case_id"], guids)
    user_id = caller.user_id
    await conn.execute(SQL["add_interaction_blobs"], interaction["id"], guids, [url for _, url in pairs], user_id)
    if ledger:
        lines = [f"Blob `{g}` added to interaction {interaction['id']}" for g in guids]
        await record_case_change(conn, interaction["case_id"], user_id, lines)


async def detach_from_interaction(
    conn: asyncpg.Connection, interaction: asyncpg.Record, user_id: int, guid: uuid.UUID, *, ledger: bool
) -> None:
    if await conn.fetchval(SQL["remove_interaction_blob"], interaction["id"], guid) is None:
        raise BlobNotFound()
    if ledger:
        lines = [f"Blob `{guid}` removed from interaction {interaction['id']}"]
        await record_case_change(conn, interaction["case_id"], user_id, lines)
