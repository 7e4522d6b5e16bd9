"""Employee-side blob references: AttachBlobToCase, DeleteCaseBlob, ListBlobsForCase, AddBlobToCaseInteraction,
RemoveCaseInteractionBlob.

Blobs on a case are case fields (closed and archived cases refuse them) and write ledger lines; blobs on an
interaction follow the interaction's rules (the author's own) and write a ledger line only for public
interactions: a private note leaves no trace in the customer-visible ledger."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

from evacase.auth import Scope
from evacase.blobs import (
    MAX_BLOBS_PER_CASE,
    MAX_BLOBS_PER_INTERACTION,
    MAX_URLS_PER_REQUEST,
    BlobUrl,
    blob_to_remove,
    blobs_to_add,
    check_capacity,
)
from evacase.context import Context
from evacase.db import load_queries
from evacase.errors import NotFound
from evacase.ledger import InteractionType, write_ledger
from evacase.messages import EmptyResponse, Id, Message, iso_ms
from evacase.registry import registry, staff
from evacase.services.cases import case_not_found, lock_case, visible_units
from evacase.services.interactions import lock_own_interaction

SQL = load_queries("blobs")
BlobUrls = Annotated[list[BlobUrl], msgspec.Meta(max_length=MAX_URLS_PER_REQUEST)]


def blob_not_attached() -> NotFound:
    return NotFound("The blob is not attached here.", "Blob:NotFound")


class AttachBlobToCase(Message, kw_only=True):
    CaseID: Id
    BlobID: uuid.UUID | None = None
    BlobUrls: BlobUrls | None = None


@registry.operation(staff("Cases", Scope.EDIT), writes=True)
async def attach_blob_to_case(ctx: Context, req: AttachBlobToCase) -> EmptyResponse:
    pairs = blobs_to_add(req.BlobID, req.BlobUrls)
    case = await lock_case(ctx, req.CaseID)
    check_capacity(case["blob_count"], len(pairs), MAX_BLOBS_PER_CASE, "case")
    guids = [guid for guid, _ in pairs]
    await ctx.conn.execute(SQL["add_case_blobs"], req.CaseID, guids, [url for _, url in pairs], ctx.caller.user_id)
    await write_ledger(ctx.conn, req.CaseID, ctx.caller.user_id, [f"Blob `{g}` added to the case" for g in guids])
    return EmptyResponse()


class DeleteCaseBlob(Message, kw_only=True):
    CaseID: Id
    BlobID: uuid.UUID | None = None
    BlobUrl: BlobUrl | None = None


@registry.operation(staff("Cases", Scope.EDIT), writes=True)
async def delete_case_blob(ctx: Context, req: DeleteCaseBlob) -> EmptyResponse:
    guid = blob_to_remove(req.BlobID, req.BlobUrl)
    await lock_case(ctx, req.CaseID)
    if await ctx.conn.fetchval(SQL["remove_case_blob"], req.CaseID, guid) is None:
        raise blob_not_attached()
    await write_ledger(ctx.conn, req.CaseID, ctx.caller.user_id, [f"Blob `{guid}` removed from the case"])
    return EmptyResponse()


class ListBlobsForCase(Message, kw_only=True):
    CaseID: Id


class CaseBlobDto(Message, kw_only=True):
    BlobID: str
    Url: str | None = None
    CreationTime: str


class ListBlobsForCaseResponse(Message, kw_only=True):
    Result: list[CaseBlobDto]


@registry.operation(staff("Cases", Scope.VIEW), writes=False)
async def list_blobs_for_case(ctx: Context, req: ListBlobsForCase) -> ListBlobsForCaseResponse:
    rows = await ctx.conn.fetch(SQL["list_case_blobs"], req.CaseID, visible_units(ctx.caller))
    if not rows:
        raise case_not_found()
    return ListBlobsForCaseResponse(
        Result=[
            CaseBlobDto(BlobID=str(r["blob_id"]), Url=r["url"], CreationTime=iso_ms(r["creation_time"]))
            for r in rows
            if r["blob_id"] is not None
        ]
    )


def interaction_blob_lines(kind: int, lines: list[str]) -> list[str]:
    """Ledger lines are public: blobs on a private note are not recorded there."""
    return [] if kind == InteractionType.NOTE else lines


class AddBlobToCaseInteraction(Message, kw_only=True):
    InteractionID: Id
    BlobID: uuid.UUID | None = None
    BlobUrls: BlobUrls | None = None


@registry.operation(staff("Cases", Scope.EDIT), writes=True)
async def add_blob_to_case_interaction(ctx: Context, req: AddBlobToCaseInteraction) -> EmptyResponse:
    pairs = blobs_to_add(req.BlobID, req.BlobUrls)
    interaction = await lock_own_interaction(ctx, req.InteractionID, "CaseInteraction:CanOnlyUpdateOwnInteraction")
    check_capacity(interaction["blob_count"], len(pairs), MAX_BLOBS_PER_INTERACTION, "interaction")
    guids = [guid for guid, _ in pairs]
    await ctx.conn.execute(
        SQL["add_interaction_blobs"], req.InteractionID, guids, [url for _, url in pairs], ctx.caller.user_id
    )
    lines = [f"Blob `{g}` added to interaction {req.InteractionID}" for g in guids]
    await write_ledger(
        ctx.conn, interaction["case_id"], ctx.caller.user_id, interaction_blob_lines(interaction["type"], lines)
    )
    return EmptyResponse()


class RemoveCaseInteractionBlob(Message, kw_only=True):
    InteractionID: Id
    BlobID: uuid.UUID | None = None
    BlobUrl: BlobUrl | None = None


@registry.operation(staff("Cases", Scope.EDIT), writes=True)
async def remove_case_interaction_blob(ctx: Context, req: RemoveCaseInteractionBlob) -> EmptyResponse:
    guid = blob_to_remove(req.BlobID, req.BlobUrl)
    interaction = await lock_own_interaction(ctx, req.InteractionID, "CaseInteraction:CanOnlyUpdateOwnInteraction")
    if await ctx.conn.fetchval(SQL["remove_interaction_blob"], req.InteractionID, guid) is None:
        raise blob_not_attached()
    lines = [f"Blob `{guid}` removed from interaction {req.InteractionID}"]
    await write_ledger(
        ctx.conn, interaction["case_id"], ctx.caller.user_id, interaction_blob_lines(interaction["type"], lines)
    )
    return EmptyResponse()
