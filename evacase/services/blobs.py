"""Employee-side blob references: AttachBlobToCase, DeleteCaseBlob, ListBlobsForCase, AddBlobToCaseInteraction,
RemoveCaseInteractionBlob.

Blobs on a case are case fields (closed and archived cases refuse them) and write ledger lines; blobs on an
interaction follow the interaction's rules (the author's own) and write a ledger line only for public
interactions: a private note leaves no trace in the customer-visible ledger."""

from __future__ import annotations

import uuid

from evacase.auth import Scope
from evacase.context import Context
from evacase.domain.blobs import (
    SQL,
    BlobUrl,
    BlobUrls,
    attach_to_case,
    attach_to_interaction,
    blob_to_remove,
    detach_from_case,
    detach_from_interaction,
)
from evacase.domain.cases import case_viewer, lock_staff_case
from evacase.domain.changes import InteractionType
from evacase.domain.interactions import lock_staff_interaction
from evacase.errors import CaseNotFound
from evacase.messages import EmptyResponse, Id, Message, iso_ms
from evacase.registry import OperationSet, staff

ops = OperationSet()

OWN_ONLY = "CaseInteraction:CanOnlyUpdateOwnInteraction"


class AttachBlobToCase(Message, kw_only=True):
    CaseID: Id
    BlobID: uuid.UUID | None = None
    BlobUrls: BlobUrls | None = None


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def attach_blob_to_case(ctx: Context, req: AttachBlobToCase) -> EmptyResponse:
    case = await lock_staff_case(ctx.conn, ctx.caller, req.CaseID)
    await attach_to_case(ctx.conn, ctx.caller, req.CaseID, case["blob_count"], req.BlobID, req.BlobUrls, ctx.blob_base)
    return EmptyResponse()


class DeleteCaseBlob(Message, kw_only=True):
    CaseID: Id
    BlobID: uuid.UUID | None = None
    BlobUrl: BlobUrl | None = None


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def delete_case_blob(ctx: Context, req: DeleteCaseBlob) -> EmptyResponse:
    guid = blob_to_remove(req.BlobID, req.BlobUrl)
    await lock_staff_case(ctx.conn, ctx.caller, req.CaseID)
    await detach_from_case(ctx.conn, req.CaseID, ctx.caller.user_id, guid)
    return EmptyResponse()


class ListBlobsForCase(Message, kw_only=True):
    CaseID: Id


class CaseBlobDto(Message, kw_only=True):
    BlobID: str
    Name: str | None = None
    MimeType: str | None = None
    Url: str | None = None
    CreationTime: str


class ListBlobsForCaseResponse(Message, kw_only=True):
    Result: list[CaseBlobDto]


@ops.operation(staff("Cases", Scope.VIEW), writes=False)
async def list_blobs_for_case(ctx: Context, req: ListBlobsForCase) -> ListBlobsForCaseResponse:
    rows = await ctx.conn.fetch(SQL["list_case_blobs"], req.CaseID, case_viewer(ctx.caller))
    if not rows:
        raise CaseNotFound()
    return ListBlobsForCaseResponse(
        Result=[
            CaseBlobDto(
                BlobID=str(r["blob_id"]),
                Name=r["original_name"],
                MimeType=r["mime_type"],
                # A stored blob's own URL; a reference attached before evacase stored blobs keeps the one it came as.
                Url=ctx.blob_url(r["blob_id"]) if r["mime_type"] is not None else r["url"],
                CreationTime=iso_ms(r["creation_time"]),
            )
            for r in rows
            if r["blob_id"] is not None
        ]
    )


class AddBlobToCaseInteraction(Message, kw_only=True):
    InteractionID: Id
    BlobID: uuid.UUID | None = None
    BlobUrls: BlobUrls | None = None


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def add_blob_to_case_interaction(ctx: Context, req: AddBlobToCaseInteraction) -> EmptyResponse:
    interaction = await lock_staff_interaction(ctx.conn, ctx.caller, req.InteractionID, OWN_ONLY)
    public = interaction["type"] != InteractionType.NOTE  # ledger lines are public: not for a private note
    await attach_to_interaction(
        ctx.conn, ctx.caller, interaction, req.BlobID, req.BlobUrls, ctx.blob_base, ledger=public
    )
    return EmptyResponse()


class RemoveCaseInteractionBlob(Message, kw_only=True):
    InteractionID: Id
    BlobID: uuid.UUID | None = None
    BlobUrl: BlobUrl | None = None


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def remove_case_interaction_blob(ctx: Context, req: RemoveCaseInteractionBlob) -> EmptyResponse:
    guid = blob_to_remove(req.BlobID, req.BlobUrl)
    interaction = await lock_staff_interaction(ctx.conn, ctx.caller, req.InteractionID, OWN_ONLY)
    public = interaction["type"] != InteractionType.NOTE
    await detach_from_interaction(ctx.conn, interaction, ctx.caller.user_id, guid, ledger=public)
    return EmptyResponse()
