"""EVA's blob services: StoreBlob, CreateBlob, GetBlobInfo, DeleteBlob (the upload to and download from a blob's
Url are in blob_transfer.py). Rules and storage: domain/stored_blobs.py, domain/blob_stores.py."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import asyncpg
import msgspec

from evacase.auth import ANONYMOUS, UserType
from evacase.context import Context
from evacase.domain.blobs import SQL, BlobUrl, blob_to_remove
from evacase.domain.cases import lock_staff_case
from evacase.domain.changes import InteractionType, record_case_change
from evacase.domain.stored_blobs import NewBlob, blob_url, create_blob, decode_data, finish_deletion, gone, upload_of
from evacase.errors import BlobBlobIDOrUrlRequired, BlobIsAttached, BlobNotFound
from evacase.messages import EmptyResponse, Message, iso_ms, parse_timestamp
from evacase.registry import Access, OperationSet
from evacase.services.wire import BlobCreated

ops = OperationSet()

UPLOADERS = Access(user_types=UserType.EMPLOYEE | UserType.CUSTOMER | UserType.API)
STAFF = Access(user_types=UserType.EMPLOYEE | UserType.API)

Category = Annotated[str, msgspec.Meta(max_length=256)]
OriginalName = Annotated[str, msgspec.Meta(max_length=256)]
MimeType = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Timestamp = Annotated[str, msgspec.Meta(max_length=64)]


def expire_date(value: str | None) -> dt.datetime | None:
    return parse_timestamp(value, "ExpireDate") if value else None


# --- StoreBlob ------------------------------------------------------------------------------------------


class StoreBlob(Message, kw_only=True):
    Data: str  # base64
    MimeType: MimeType
    Category: Category | None = None
    OriginalName: OriginalName | None = None
    ExpireDate: Timestamp | None = None


@ops.operation(UPLOADERS, writes=True, own_transactions=True)
async def store_blob(ctx: Context, req: StoreBlob) -> BlobCreated:
    settings = ctx.blob_settings
    upload = upload_of(decode_data(req.Data, settings.max_bytes), settings.max_bytes)
    try:
        blob = NewBlob(req.MimeType, req.Category, req.OriginalName, expire_date(req.ExpireDate))
        guid, _ = await create_blob(ctx.conn, settings, ctx.caller, blob, upload)
    finally:
        upload.file.close()
    return BlobCreated(Guid=guid, Url=ctx.blob_url(guid))


# --- CreateBlob -----------------------------------------------------------------------------------------


class CreateBlob(Message, kw_only=True):
    MimeType: MimeType
    Category: Category | None = None
    OriginalName: OriginalName | None = None
    ExpireDate: Timestamp | None = None
    LocationType: Annotated[str, msgspec.Meta(max_length=64)] | None = None  # accepted, not used
    Uri: Annotated[str, msgspec.Meta(max_length=2000)] | None = None  # accepted, not used


@ops.operation(UPLOADERS, writes=True, own_transactions=True)
async def create_blob_placeholder(ctx: Context, req: CreateBlob) -> BlobCreated:
    blob = NewBlob(req.MimeType, req.Category, req.OriginalName, expire_date(req.ExpireDate))
    guid, _ = await create_blob(ctx.conn, ctx.blob_settings, ctx.caller, blob, None)
    return BlobCreated(Guid=guid, Url=ctx.blob_url(guid))


# --- GetBlobInfo ----------------------------------------------------------------------------------------


class GetBlobInfo(Message, kw_only=True):
    Guid: uuid.UUID | None = None
    Category: Category | None = None
    OriginalName: OriginalName | None = None


class GetBlobInfoResponse(Message, kw_only=True):
    Guid: uuid.UUID
    Category: str | None = None
    OriginalName: str | None = None
    MimeType: str
    ExpireDate: str | None = None
    LastModificationTimeUtc: str
    Size: int | None = None
    Url: str | None = None  # evacase's addition: where to fetch it


@ops.operation(Access(anonymous=True), writes=False)
async def get_blob_info(ctx: Context, req: GetBlobInfo) -> GetBlobInfoResponse:
    guid = req.Guid
    if guid is None:
        if not req.OriginalName:
            raise BlobBlobIDOrUrlRequired("Either Guid, or Category and OriginalName, is required.")
        guid = await ctx.conn.fetchval(SQL["blob_by_name"], req.Category or None, req.OriginalName)
    row = await ctx.conn.fetchrow(SQL["get_blob"], guid) if guid is not None else None
    if row is None and req.Guid is not None:
        reference = await ctx.conn.fetchrow(SQL["blob_reference"], req.Guid)
        if reference is not None:  # attached before evacase stored blobs: what is known of it
            return GetBlobInfoResponse(
                Guid=req.Guid,
                MimeType="application/octet-stream",
                LastModificationTimeUtc=iso_ms(reference["creation_time"]),
                Url=reference["url"],
            )
    if row is None or gone(row):
        raise BlobNotFound("There is no such blob.")
    return GetBlobInfoResponse(
        Guid=row["id"],
        Category=row["category"],
        OriginalName=row["original_name"],
        MimeType=row["mime_type"],
        ExpireDate=iso_ms(row["expire_date"]),
        LastModificationTimeUtc=iso_ms(row["last_modification_time"]),
        Size=row["size"],
        # Without a token, in the signed-downloads mode, the plain URL: no download for knowing a GUID alone.
        Url=blob_url(ctx.blob_base, row["id"]) if ctx.caller is ANONYMOUS else ctx.blob_url(row["id"]),
    )


# --- DeleteBlob -----------------------------------------------------------------------------------------


class DeleteBlob(Message, kw_only=True):
    BlobID: uuid.UUID | None = None
    BlobUrl: BlobUrl | None = None
    DetachEverywhere: bool = False  # evacase's extension: detach an attached blob everywhere first


@ops.operation(STAFF, writes=True, own_transactions=True)
async def delete_blob(ctx: Context, req: DeleteBlob) -> EmptyResponse:
    guid = blob_to_remove(req.BlobID, req.BlobUrl, ctx.blob_base)
    conn, store = ctx.conn, ctx.blob_settings.store
    async with conn.transaction():
        # The cases holding it are locked before the blob (the order attachments take): read, lock, read again.
        attached = await conn.fetch(SQL["blob_attachments"], guid)
        if attached and req.DetachEverywhere:
            for case_id in sorted({r["case_id"] for r in attached}):
                await lock_staff_case(conn, ctx.caller, case_id, closed_ok=True)
        blob = await conn.fetchrow(SQL["lock_blob"], guid)
        if blob is None:
            raise BlobNotFound("There is no such blob.")
        attached = await conn.fetch(SQL["blob_attachments"], guid)
        if attached and not req.DetachEverywhere:
            cases = sorted({r["case_id"] for r in attached})
            raise BlobIsAttached(
                "The blob is attached: detach it first, or send DetachEverywhere: true.", data={"CaseIDs": cases}
            )
        if attached:
            await detach_everywhere(ctx, guid, attached)
        if store.kind == "postgresql":
            await conn.execute(SQL["delete_blob"], guid)  # its chunks go with it
        else:
            await conn.execute(SQL["mark_deleted"], guid)  # no longer served; the content goes next, then the row
    if store.kind != "postgresql":
        await finish_deletion(conn, store, guid)
    return EmptyResponse()


async def detach_everywhere(ctx: Context, guid: uuid.UUID, attached: list[asyncpg.Record]) -> None:
    """Take the blob off every case and interaction holding it, with the ledger lines its detachments write one
    by one (none for a private note)."""
    lines: dict[int, list[str]] = {}
    for r in attached:
        if r["interaction_type"] == InteractionType.NOTE:
            continue
        where = "the case" if r["interaction_id"] is None else f"interaction {r['interaction_id']}"
        lines.setdefault(r["case_id"], []).append(f"Blob `{guid}` removed from {where}")
    await ctx.conn.execute(SQL["detach_everywhere"], guid)
    for case_id, case_lines in lines.items():
        await record_case_change(ctx.conn, case_id, ctx.caller.user_id, case_lines)
