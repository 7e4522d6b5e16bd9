"""Employee-side interactions: CreateCaseInteraction, GetCaseInteraction, UpdateCaseInteraction,
DeleteCaseInteraction, ListCaseInteractions.

Employees write Communication (0, public), Note (1, private) and Email (3) interactions; Ledger (2) lines are
the system's and HttpCallback (4) comes from integrations: both are refused here. An employee changes only
their own interactions; archived cases are read-only, closed ones still take interactions. No ledger line is
written for interactions (ledger lines are public: a private note must leave no trace there)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import asyncpg
import msgspec

from evacase.auth import Scope
from evacase.context import Context
from evacase.db import contains_pattern, load_queries
from evacase.domain.cases import case_viewer
from evacase.domain.changes import InteractionType
from evacase.domain.interactions import WRITABLE_TYPES, lock_staff_interaction
from evacase.errors import (
    CaseCaseIsArchived,
    CaseInteractionInteractionTypeNotAllowed,
    CaseInteractionNotFound,
    CaseNotFound,
)
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
    full_name,
    iso_ms,
)
from evacase.paging import to_micros
from evacase.registry import OperationSet, staff

ops = OperationSet()

SQL = load_queries("interactions")

ALL_TYPES = [0, 1, 2, 3, 4]
InteractionTypeValue = Annotated[int, msgspec.Meta(ge=0, le=4)]
BackendID = Annotated[str, msgspec.Meta(max_length=256)]


def can_be_mutated(caller_id: int, kind: int, created_by: int | None, archived: bool) -> bool:
    """An employee changes their own Communication, Note and Email interactions on a case not archived."""
    return kind in WRITABLE_TYPES and created_by == caller_id and not archived


# --- CreateCaseInteraction ------------------------------------------------------------------------------


class CreateCaseInteraction(Message, kw_only=True):
    CaseID: Id
    InteractionType: InteractionTypeValue = InteractionType.COMMUNICATION
    Text: Text
    BackendID: BackendID | None = None


class CreateCaseInteractionResponse(Message, kw_only=True):
    ID: int


@ops.operation(staff("Cases", Scope.EDIT), writes=True, one_statement=True)
async def create_case_interaction(ctx: Context, req: CreateCaseInteraction) -> CreateCaseInteractionResponse:
    if req.InteractionType not in WRITABLE_TYPES:
        raise CaseInteractionInteractionTypeNotAllowed(
            "Only Communication (0), Note (1) and Email (3) interactions can be created; ledger lines are the "
            "system's.",
            data={"Field": "InteractionType"},
        )
    row = await ctx.conn.fetchrow(
        *SQL.bound(
            "create_interaction",
            case_id=req.CaseID,
            type=req.InteractionType,
            text=req.Text,
            backend_id=req.BackendID,
            author=ctx.caller.user_id,
            viewer=case_viewer(ctx.caller),
        )
    )
    if not row["case_ok"]:
        raise CaseNotFound()
    if row["id"] is None:
        raise CaseCaseIsArchived()
    return CreateCaseInteractionResponse(ID=row["id"])


# --- GetCaseInteraction ---------------------------------------------------------------------------------


class GetCaseInteraction(Message, kw_only=True):
    ID: Id


class GetCaseInteractionResponse(Message, kw_only=True):
    ID: int
    CaseID: int
    InteractionType: int
    Text: str | None = None
    BackendID: str | None = None
    BlobIDs: list[str] | None = None
    CanBeMutated: bool
    CreationTime: str
    LastModificationTime: str | None = None


@ops.operation(staff("Cases", Scope.VIEW), writes=False)
async def get_case_interaction(ctx: Context, req: GetCaseInteraction) -> GetCaseInteractionResponse:
    row = await ctx.conn.fetchrow(SQL["get_interaction"], req.ID, case_viewer(ctx.caller))
    if row is None:
        raise CaseInteractionNotFound()
    return GetCaseInteractionResponse(
        ID=row["id"],
        CaseID=row["case_id"],
        InteractionType=row["type"],
        Text=row["text"],
        BackendID=row["backend_id"],
        BlobIDs=[str(b) for b in row["blob_ids"]] or None,
        CanBeMutated=can_be_mutated(ctx.caller.user_id, row["type"], row["created_by"], row["is_archived"]),
        CreationTime=iso_ms(row["creation_time"]),
        LastModificationTime=iso_ms(row["last_modification_time"]),
    )


# --- UpdateCaseInteraction / DeleteCaseInteraction ------------------------------------------------------


class UpdateCaseInteraction(Message, kw_only=True):
    ID: Id
    Text: Text
    BackendID: BackendID | msgspec.UnsetType | None = msgspec.UNSET


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def update_case_interaction(ctx: Context, req: UpdateCaseInteraction) -> EmptyResponse:
    await lock_staff_interaction(ctx.conn, ctx.caller, req.ID, "CaseInteraction:CanOnlyUpdateOwnInteraction")
    backend_given = req.BackendID is not msgspec.UNSET
    await ctx.conn.execute(
        SQL["update_interaction"], req.ID, req.Text, backend_given, req.BackendID if backend_given else None
    )
    return EmptyResponse()


class DeleteCaseInteraction(Message, kw_only=True):
    ID: Id


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def delete_case_interaction(ctx: Context, req: DeleteCaseInteraction) -> EmptyResponse:
    row = await lock_staff_interaction(ctx.conn, ctx.caller, req.ID, "CaseInteraction:CanOnlyDeleteOwnInteraction")
    await ctx.conn.execute(SQL["delete_interaction"], req.ID, row["case_id"])
    return EmptyResponse()


# --- ListCaseInteractions -------------------------------------------------------------------------------


class InteractionFilter(ListFilter, kw_only=True):
    InteractionType: InteractionTypeValue | None = None
    Text: FilterText | None = None


class ListCaseInteractionsPageConfig(PageConfig, kw_only=True):
    Filter: InteractionFilter | None = None


class ListCaseInteractions(PagedRequest, kw_only=True):
    CaseID: Id
    IncludeRepairInteractions: bool = False  # repairs are not modelled: there are none to include
    InitialPageConfig: ListCaseInteractionsPageConfig | None = None


class InteractionAuthor(Message, kw_only=True):
    CreatedByID: int | None = None
    FirstName: str | None = None
    LastName: str | None = None
    FullName: str | None = None


class CaseInteractionDto(Message, kw_only=True):
    ID: int
    InteractionType: int
    Text: str | None = None
    BackendID: str | None = None
    CanBeMutated: bool
    CreatedBy: InteractionAuthor | None = None
    CreationTime: str
    LastModificationTime: str | None = None


class ListCaseInteractionsResponse(PagedResponse, kw_only=True):
    Results: list[CaseInteractionDto]


def _key(row: asyncpg.Record) -> tuple[int, int]:
    created: dt.datetime = row["creation_time"]
    return to_micros(created), row["id"]


@ops.operation(staff("Cases", Scope.VIEW), writes=False)
async def list_case_interactions(ctx: Context, req: ListCaseInteractions) -> ListCaseInteractionsResponse:
    config = req.InitialPageConfig or ListCaseInteractionsPageConfig()
    f = config.Filter or InteractionFilter()
    filters = {"InteractionType": f.InteractionType, "Text": f.Text}
    page_req = ctx.page_tokens.request("ListCaseInteractions", req.PageToken, config.Limit, filters, scope=req.CaseID)
    kind = page_req.filter.get("InteractionType")
    bound_time, bound_id = page_req.time_id_key()
    rows = await ctx.conn.fetch(
        *SQL.bound(
            "list_interactions_after" if page_req.forward else "list_interactions_before",
            case_id=req.CaseID,
            viewer=case_viewer(ctx.caller),
            types=ALL_TYPES if kind is None else [kind],
            bound_time=bound_time,
            bound_id=bound_id,
            text=contains_pattern(page_req.filter.get("Text")),
            limit=page_req.limit + 1,
        )
    )
    if not rows:
        raise CaseNotFound()
    page = ctx.page_tokens.page(page_req, [r for r in rows if r["id"] is not None], _key)
    caller_id = ctx.caller.user_id
    results = []
    for r in page.rows:
        author = None
        if r["created_by"] is not None:
            author = InteractionAuthor(
                CreatedByID=r["created_by"],
                FirstName=r["first_name"],
                LastName=r["last_name"],
                FullName=full_name(r["first_name"], r["last_name"]),
            )
        results.append(
            CaseInteractionDto(
                ID=r["id"],
                InteractionType=r["type"],
                Text=r["text"],
                BackendID=r["backend_id"],
                CanBeMutated=can_be_mutated(caller_id, r["type"], r["created_by"], r["is_archived"]),
                CreatedBy=author,
                CreationTime=r["created_at"],  # formatted by the query (eva_time)
                LastModificationTime=r["modified_at"],
            )
        )
    return ListCaseInteractionsResponse(Results=results, **page.tokens())
