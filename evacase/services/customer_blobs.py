"""Customer-facing blob references on cases and on the customer's own interactions."""

from __future__ import annotations

import uuid

from evacase.context import Context
from evacase.domain.blobs import (
    BlobUrl,
    BlobUrls,
    attach_to_case,
    attach_to_interaction,
    blob_to_remove,
    detach_from_case,
    detach_from_interaction,
)
from evacase.domain.cases import lock_customer_case
from evacase.domain.interactions import lock_customer_interaction
from evacase.messages import EmptyResponse, Id, Message
from evacase.registry import OperationSet
from evacase.services.wire import CUSTOMER_ACCESS

ops = OperationSet()

OWN_ONLY = "CaseInteraction:CanOnlyUpdateOwnInteraction"


class CustomerAddBlobToCase(Message, kw_only=True):
    CaseID: Id
    BlobID: uuid.UUID | None = None
    BlobUrls: BlobUrls | None = None


@ops.operation(CUSTOMER_ACCESS, writes=True)
async def customer_add_blob_to_case(ctx: Context, req: CustomerAddBlobToCase) -> EmptyResponse:
    case = await lock_customer_case(ctx.conn, ctx.caller, req.CaseID)
    await attach_to_case(ctx.conn, ctx.caller, req.CaseID, case["blob_count"], req.BlobID, req.BlobUrls, ctx.blob_base)
    return EmptyResponse()


class CustomerRemoveCaseBlob(Message, kw_only=True):
    CaseID: Id
    BlobID: uuid.UUID | None = None
    BlobUrl: BlobUrl | None = None


@ops.operation(CUSTOMER_ACCESS, writes=True)
async def customer_remove_case_blob(ctx: Context, req: CustomerRemoveCaseBlob) -> EmptyResponse:
    guid = blob_to_remove(req.BlobID, req.BlobUrl)
    await lock_customer_case(ctx.conn, ctx.caller, req.CaseID)
    await detach_from_case(ctx.conn, req.CaseID, ctx.caller.user_id, guid)
    return EmptyResponse()


class CustomerAddBlobToCaseInteraction(Message, kw_only=True):
    InteractionID: Id
    BlobID: uuid.UUID | None = None
    BlobUrls: BlobUrls | None = None


@ops.operation(CUSTOMER_ACCESS, writes=True)
async def customer_add_blob_to_case_interaction(ctx: Context, req: CustomerAddBlobToCaseInteraction) -> EmptyResponse:
    interaction = await lock_customer_interaction(ctx.conn, ctx.caller, req.InteractionID, OWN_ONLY)
    await attach_to_interaction(ctx.conn, ctx.caller, interaction, req.BlobID, req.BlobUrls, ctx.blob_base, ledger=True)
    return EmptyResponse()


class CustomerRemoveCaseInteractionBlob(Message, kw_only=True):
    InteractionID: Id
    BlobID: uuid.UUID | None = None
    BlobUrl: BlobUrl | None = None


@ops.operation(CUSTOMER_ACCESS, writes=True)
async def customer_remove_case_interaction_blob(ctx: Context, req: CustomerRemoveCaseInteractionBlob) -> EmptyResponse:
    guid = blob_to_remove(req.BlobID, req.BlobUrl)
    interaction = await lock_customer_interaction(ctx.conn, ctx.caller, req.InteractionID, OWN_ONLY)
    await detach_from_interaction(ctx.conn, interaction, ctx.caller.user_id, guid, ledger=True)
    return EmptyResponse()
