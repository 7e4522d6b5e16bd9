"""Customer-facing interactions: create, get, update, delete and list the interactions of the caller's cases.

Customers see Communication (0), Ledger (2) and Email (3) lines, never private notes; they may change only
their own Communication lines, and only while the case is open."""

from __future__ import annotations

from typing import Any

import asyncpg

from evacase.context import Context
from evacase.db import contains_pattern, load_queries
from evacase.domain.cases import lock_customer_case
from evacase.domain.changes import InteractionType
from evacase.domain.interactions import VISIBLE_TO_CUSTOMERS, lock_customer_interaction
from evacase.errors import CaseInteractionNotFound, CaseNotFound
from evacase.messages import (
    EmptyResponse,
    FilterText,
    Id,
    ListFilter,
    Message,
    PageConfig,
    PagedRequest,
    PagedResponse,
    Text,
    UserName,
    iso_ms,
    user_name,
)
from evacase.paging import eva_time_micros
from evacase.registry import OperationSet
from evacase.services.wire import CUSTOMER_ACCESS

ops = OperationSet()

SQL = load_queries("interactions")


def can_modify(caller_id: int, interaction_type: int, created_by: int | None, case_closed: bool) -> bool:
    """What CanBeModified says: a customer changes only their own Communication lines on an open case."""
    return interaction_type == InteractionType.COMMUNICATION and created_by == caller_id and not case_closed


def interaction_fields(row: asyncpg.Record, case_id: int, caller_id: int, case_closed: bool) -> dict[str, Any]:
    """The CustomerGetCaseInteraction fields of an interaction row."""
    return {
        "ID": row["id"],
        "CaseID": case_id,
        "Type": row["type"],
        "CanBeModified": can_modify(caller_id, row["type"], row["created_by"], case_closed),
        "Text": row["text"],
        "CreationTime": iso_ms(row["creation_time"]),
        "LastModificationTime": iso_ms(row["last_modification_time"]),
    }


# --- CustomerCreateCaseInteraction ----------------------------------------------------------------------


class CustomerCreateCaseInteraction(Message, kw_only=True):
    CaseID: Id
    Text: Text


class CustomerCreateCaseInteractionResponse(Message, kw_only=True):
    ID: int


@ops.operation(CUSTOMER_ACCESS, writes=True, one_statement=True)
async def customer_create_case_interaction(
    ctx: Context, req: CustomerCreateCaseInteraction
) -> CustomerCreateCaseInteractionResponse:
    interaction_id = await ctx.conn.fetchval(SQL["customer_add_message"], req.CaseID, req.Text, ctx.caller.user_id)
    if interaction_id is None:  # not theirs, closed, or a status newer than the statement: the locked path decides
        async with ctx.conn.transaction():
            await lock_customer_case(ctx.conn, ctx.caller, req.CaseID)  # 404 or 409
            interaction_id = await ctx.conn.fetchval(
                SQL["customer_create_interaction"], req.CaseID, req.Text, ctx.caller.user_id
            )
    return CustomerCreateCaseInteractionResponse(ID=interaction_id)


# --- CustomerGetCaseInteraction -------------------------------------------------------------------------


class CustomerGetCaseInteraction(Message, kw_only=True):
    ID: Id


class CustomerGetCaseInteractionResponse(Message, kw_only=True):
    ID: int
    CaseID: int
    Type: int
    CanBeModified: bool
    Text: str | None = None
    CreationTime: str
    LastModificationTime: str | None = None


@ops.operation(CUSTOMER_ACCESS, writes=False)
async def customer_get_case_interaction(
    ctx: Context, req: CustomerGetCaseInteraction
) -> CustomerGetCaseInteractionResponse:
    row = await ctx.conn.fetchrow(SQL["customer_get_interaction"], req.ID, ctx.caller.user_id, VISIBLE_TO_CUSTOMERS)
    if row is None:
        raise CaseInteractionNotFound()
    return CustomerGetCaseInteractionResponse(
        **interaction_fields(row, row["case_id"], ctx.caller.user_id, row["is_closed"])
    )


# --- CustomerUpdateCaseInteraction ----------------------------------------------------------------------


class CustomerUpdateCaseInteraction(Message, kw_only=True):
    ID: Id
    Text: Text


@ops.operation(CUSTOMER_ACCESS, writes=True)
async def customer_update_case_interaction(ctx: Context, req: CustomerUpdateCaseInteraction) -> EmptyResponse:
    await lock_customer_interaction(ctx.conn, ctx.caller, req.ID, "CaseInteraction:CanOnlyUpdateOwnInteraction")
    await ctx.conn.execute(SQL["customer_update_interaction_text"], req.ID, req.Text)
    return EmptyResponse()


# --- CustomerDeleteCaseInteraction ----------------------------------------------------------------------


class CustomerDeleteCaseInteraction(Message, kw_only=True):
    ID: Id


@ops.operation(CUSTOMER_ACCESS, writes=True)
async def customer_delete_case_interaction(ctx: Context, req: CustomerDeleteCaseInteraction) -> EmptyResponse:
    await lock_customer_interaction(ctx.conn, ctx.caller, req.ID, "CaseInteraction:CanOnlyDeleteOwnInteraction")
    await ctx.conn.execute(SQL["customer_delete_interaction"], req.ID)
    return EmptyResponse()


# --- CustomerListCaseInteractions -----------------------------------------------------------------------


class CustomerInteractionFilter(ListFilter, kw_only=True):
    ID: Id | None = None
    Text: FilterText | None = None


class CustomerListCaseInteractionsPageConfig(PageConfig, kw_only=True):
    Filter: CustomerInteractionFilter | None = None


class CustomerListCaseInteractions(PagedRequest, kw_only=True):
    CaseID: Id
    InitialPageConfig: CustomerListCaseInteractionsPageConfig | None = None


class CustomerInteractionDto(CustomerGetCaseInteractionResponse, kw_only=True):
    CreatedByID: int | None = None
    CreatedBy: UserName | None = None


class CustomerListCaseInteractionsResponse(PagedResponse, kw_only=True):
    Results: list[CustomerInteractionDto]


_UNSEEN: Any = object()  # a names cache miss (None is a cached "no name")


def _key(row: asyncpg.Record) -> tuple[int, int]:
    """A row's keyset key, from its creation time as the query formatted it (interactions keep milliseconds:
    the text is the exact time)."""
    return eva_time_micros(row["created_at"]), row["id"]


# (filtered, forward) -> the statement: a page without the ID or text filters has statements of their own.
LIST_QUERIES = {
    (False, True): "customer_list_interactions_after",
    (False, False): "customer_list_interactions_before",
    (True, True): "customer_list_interactions_filtered_after",
    (True, False): "customer_list_interactions_filtered_before",
}


@ops.operation(CUSTOMER_ACCESS, writes=False)
async def customer_list_case_interactions(
    ctx: Context, req: CustomerListCaseInteractions
) -> CustomerListCaseInteractionsResponse:
    config = req.InitialPageConfig or CustomerListCaseInteractionsPageConfig()
    f = config.Filter or CustomerInteractionFilter()
    filters = {"ID": f.ID, "Text": f.Text}
    page_req = ctx.page_tokens.request(
        "CustomerListCaseInteractions", req.PageToken, config.Limit, filters, scope=req.CaseID
    )
    bound_time, bound_id = page_req.time_id_key()
    interaction_id, text = page_req.filter.get("ID"), page_req.filter.get("Text")
    filtered = interaction_id is not None or text is not None
    query = LIST_QUERIES[filtered, page_req.forward]
    values: dict[str, Any] = {"interaction_id": interaction_id, "text": contains_pattern(text)} if filtered else {}
    rows = await ctx.conn.fetch(
        *SQL.bound(
            query,
            case_id=req.CaseID,
            customer_id=ctx.caller.user_id,
            types=VISIBLE_TO_CUSTOMERS,
            bound_time=bound_time,
            bound_id=bound_id,
            limit=page_req.limit + 1,
            **values,
        )
    )
    if not rows:
        raise CaseNotFound()
    closed = rows[0]["is_closed"]
    found = [r for r in rows if r["id"] is not None]
    page = ctx.page_tokens.page(page_req, found, _key)
    caller_id = ctx.caller.user_id
    case_id = req.CaseID
    # Built field by field (not through interaction_fields' dict): this loop is the list's hot path. The rows are
    # unpacked by position (the query's column order) and each author's UserName is made once per page.
    names: dict[tuple[str | None, str | None], UserName | None] = {}
    results = []
    for _, id_, kind, body, created_by, created_at, modified_at, first, last in page.rows:
        author = names.get((first, last), _UNSEEN)
        if author is _UNSEEN:
            author = names[first, last] = user_name(first, last)
        results.append(
            CustomerInteractionDto(
                ID=id_,
                CaseID=case_id,
                Type=kind,
                CanBeModified=can_modify(caller_id, kind, created_by, closed),
                Text=body,
                CreationTime=created_at,  # formatted by the query (eva_time)
                LastModificationTime=modified_at,
                # Ledger lines name who made the change but, as in EVA's guide, carry no CreatedByID.
                CreatedByID=None if kind == InteractionType.LEDGER else created_by,
                CreatedBy=author,
            )
        )
    return CustomerListCaseInteractionsResponse(Results=results, **page.tokens())
