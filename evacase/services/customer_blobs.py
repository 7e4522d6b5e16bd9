"""Customer-facing blob references on cases and on the customer's own interactions."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

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
from evacase.ledger import write_ledger
from evacase.messages import EmptyResponse, Id, Message
from evacase.registry import registry
from evacase.services.customer_cases import CUSTOMER_ACCESS, lock_open_case
from evacase.services.customer_interactions import lock_own_interaction

SQL = load_queries("blobs")
BlobUrls = Annotated[list[BlobUrl], msgspec.Meta(max_length=MAX_URLS_PER_REQUEST)]


def blob_not_attached() -> NotFound:
    return NotFound("The blob is not attached here.", "Blob:NotFound")


class CustomerAddBlobToCase(Message, kw_only=True):
    CaseID: Id
    BlobID: uuid.UUID | None = None
    BlobUrls: BlobUrls | None = None


@registry.operation(CUSTOMER_ACCESS, writes=True)
async def customer_add_blob_to_case(ctx: Context, req: CustomerAddBlobToCase) -> EmptyResponse:
    pairs = blobs_to_add(req.BlobID, req.BlobUrls)
    case = await lock_open_case(ctx, req.CaseID)
    check_capacity(case["blob_count"], len(pairs), MAX_BLOBS_PER_CASE, "case")
    guids = [guid for guid, _ in pairs]
    await ctx.conn.execute(SQL["add_case_blobs"], req.CaseID, guids, [url for _, url in pairs], ctx.caller.user_id)
    await write_ledger(ctx.conn, req.CaseID, ctx.caller.user_id, [f"Blob `{g}` added to the case" for g in guids])
    return EmptyResponse()


class CustomerRemoveCaseBlob(Message, kw_only=True):
    CaseID: Id
    BlobID: uuid.UUID | None = None
    BlobUrl: BlobUrl | None = None


@registry.operation(CUSTOMER_ACCESS, writes=True)
async def customer_remove_case_blob(ctx: Context, req: CustomerRemoveCaseBlob) -> EmptyResponse:
    guid = blob_to_remove(req.BlobID, req.BlobUrl)
    await lock_open_case(ctx, req.CaseID)
    if await ctx.conn.fetchval(SQL["remove_case_blob"], req.CaseID, guid) is None:
        raise blob_not_attached()
    await write_ledger(ctx.conn, req.CaseID, ctx.caller.user_id, [f"Blob `{guid}` removed from the case"])
    return EmptyResponse()


class CustomerAddBlobToCaseInteraction(Message, kw_only=True):
    InteractionID: Id
    BlobID: uuid.UUID | None = None
    BlobUrls: BlobUrls | None = None


@registry.operation(CUSTOMER_ACCESS, writes=True)
async def customer_add_blob_to_case_interaction(ctx: Context, req: CustomerAddBlobToCaseInteraction) -> EmptyResponse:
    pairs = blobs_to_add(req.BlobID, req.BlobUrls)
    interaction = await lock_own_interaction(ctx, req.InteractionID, "CaseInteraction:CanOnlyUpdateOwnInteraction")
    check_capacity(interaction["blob_count"], len(pairs), MAX_BLOBS_PER_INTERACTION, "interaction")
    guids = [guid for guid, _ in pairs]
    await ctx.conn.execute(
        SQL["add_interaction_blobs"], req.InteractionID, guids, [url for _, url in pairs], ctx.caller.user_id
    )
    lines = [f"Blob `{g}` added to interaction {req.InteractionID}" for g in guids]
    await write_ledger(ctx.conn, interaction["case_id"], ctx.caller.user_id, lines)
    return EmptyResponse()


class CustomerRemoveCaseInteractionBlob(Message, kw_only=True):
    InteractionID: Id
    BlobID: uuid.UUID | None = None
    BlobUrl: BlobUrl | None = None


@registry.operation(CUSTOMER_ACCESS, writes=True)
async def customer_remove_case_interaction_blob(ctx: Context, req: CustomerRemoveCaseInteractionBlob) -> EmptyResponse:
    guid = blob_to_remove(req.BlobID, req.BlobUrl)
    interaction = await lock_own_interaction(ctx, req.InteractionID, "CaseInteraction:CanOnlyUpdateOwnInteraction")
    if await ctx.conn.fetchval(SQL["remove_interaction_blob"], req.InteractionID, guid) is None:
        raise blob_not_attached()
    lines = [f"Blob `{guid}` removed from interaction {req.InteractionID}"]
    await write_ledger(ctx.conn, interaction["case_id"], ctx.caller.user_id, lines)
    return EmptyResponse()
