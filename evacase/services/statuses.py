"""Case statuses, the employee-side catalogue: CreateCaseStatus, GetCaseStatus, UpdateCaseStatus,
DeleteCaseStatus, ListCaseStatuses.

The four system statuses (New, InProgress, Completed, Cancelled) cannot be deleted, renamed or opened/closed;
a status cases use cannot be deleted, nor switch between open and closed."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import asyncpg
import msgspec

from evacase.auth import Scope
from evacase.context import Context
from evacase.db import contains_pattern, load_queries
from evacase.domain.statuses import delete_status, update_status
from evacase.errors import (
    CaseStatusNotFound,
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
    sent,
)
from evacase.registry import OperationSet, staff

ops = OperationSet()

SQL = load_queries("statuses")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\S")]
Color = Annotated[str, msgspec.Meta(min_length=1, max_length=7, pattern=r"^#([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})$")]
Action = Annotated[int, msgspec.Meta(ge=0, le=2)]  # 0 None, 1 CreateRepair, 2 CreateOrder
Description = Annotated[str, msgspec.Meta(max_length=1000)]
BackendID = Annotated[str, msgspec.Meta(max_length=256)]
Hours = Annotated[float, msgspec.Meta(gt=0, le=87600)]  # decimal hours, up to ten years


def hours(value: float | None) -> Decimal | None:
    """Decimal hours as the database keeps them (numeric: 72, 1.5)."""
    return Decimal(str(value)) if value is not None else None


class CaseStatusDto(Message, kw_only=True):
    ID: int
    Name: str | None = None
    Description: str | None = None
    BackendID: str | None = None
    Color: str | None = None
    Action: int
    IsClosed: bool
    IsSystem: bool
    ScriptID: int | None = None
    PausesServiceLevel: bool  # evacase's own: time in this status does not count toward resolution
    AutoCloseAfterHours: float | None = None  # evacase's own (README, "Service levels")
    AutoCloseStatusID: int | None = None
    ReopenStatusID: int | None = None


def status_dto(row: asyncpg.Record) -> CaseStatusDto:
    return CaseStatusDto(
        ID=row["id"],
        Name=row["name"],
        Description=row["description"],
        BackendID=row["backend_id"],
        Color=row["color"],
        Action=row["action"],
        IsClosed=row["is_closed"],
        IsSystem=row["is_system"],
        ScriptID=row["script_id"],
        PausesServiceLevel=row["pauses_service_level"],
        AutoCloseAfterHours=float(row["auto_close_after_hours"]) if row["auto_close_after_hours"] is not None else None,
        AutoCloseStatusID=row["auto_close_status_id"],
        ReopenStatusID=row["reopen_status_id"],
    )


# --- CreateCaseStatus -----------------------------------------------------------------------------------


class CreateCaseStatus(Message, kw_only=True):
    Name: Name
    Description: Description | None = None
    BackendID: BackendID | None = None
    Color: Color | None = None
    Action: Action = 0
    IsClosed: bool = False
    ScriptID: Id | None = None
    PausesServiceLevel: bool = False
    AutoCloseAfterHours: Hours | None = None
    AutoCloseStatusID: Id | None = None
    ReopenStatusID: Id | None = None


class CreateCaseStatusResponse(Message, kw_only=True):
    ID: int


@ops.operation(staff("CaseStatuses", Scope.CREATE), writes=True, one_statement=True)
async def create_case_status(ctx: Context, req: CreateCaseStatus) -> CreateCaseStatusResponse:
    status_id = await ctx.conn.fetchval(
        *SQL.bound(
            "create_status",
            name=req.Name,
            description=req.Description,
            backend_id=req.BackendID,
            color=req.Color,
            action=req.Action,
            is_closed=req.IsClosed,
            script_id=req.ScriptID,
            pauses_service_level=req.PausesServiceLevel,
            auto_close_after_hours=hours(req.AutoCloseAfterHours),
            auto_close_status_id=req.AutoCloseStatusID,
            reopen_status_id=req.ReopenStatusID,
        )
    )
    return CreateCaseStatusResponse(ID=status_id)


# --- GetCaseStatus --------------------------------------------------------------------------------------


class GetCaseStatus(Message, kw_only=True):
    ID: Id


class GetCaseStatusResponse(CaseStatusDto, kw_only=True):
    pass


@ops.operation(staff("CaseStatuses", Scope.VIEW), writes=False)
async def get_case_status(ctx: Context, req: GetCaseStatus) -> GetCaseStatusResponse:
    row = await ctx.conn.fetchrow(SQL["get_status"], req.ID)
    if row is None:
        raise CaseStatusNotFound()
    return GetCaseStatusResponse(**msgspec.structs.asdict(status_dto(row)))


# --- UpdateCaseStatus -----------------------------------------------------------------------------------


class UpdateCaseStatus(Message, kw_only=True):
    ID: Id
    Name: Name | msgspec.UnsetType = msgspec.UNSET
    Description: Description | msgspec.UnsetType | None = msgspec.UNSET
    BackendID: BackendID | msgspec.UnsetType | None = msgspec.UNSET
    Color: Color | msgspec.UnsetType | None = msgspec.UNSET
    Action: Action | msgspec.UnsetType = msgspec.UNSET
    IsClosed: bool | msgspec.UnsetType = msgspec.UNSET
    ScriptID: Id | msgspec.UnsetType | None = msgspec.UNSET
    PausesServiceLevel: bool | msgspec.UnsetType = msgspec.UNSET
    AutoCloseAfterHours: Hours | msgspec.UnsetType | None = msgspec.UNSET
    AutoCloseStatusID: Id | msgspec.UnsetType | None = msgspec.UNSET
    ReopenStatusID: Id | msgspec.UnsetType | None = msgspec.UNSET


@ops.operation(staff("CaseStatuses", Scope.EDIT), writes=True)
async def update_case_status(ctx: Context, req: UpdateCaseStatus) -> EmptyResponse:
    changes = sent(req, FIELDS)
    if changes.get("auto_close_after_hours") is not None:
        changes["auto_close_after_hours"] = hours(changes["auto_close_after_hours"])
    await update_status(ctx.conn, req.ID, changes)
    return EmptyResponse()


FIELDS = {
    "Name": "name",
    "Description": "description",
    "BackendID": "backend_id",
    "Color": "color",
    "Action": "action",
    "IsClosed": "is_closed",
    "ScriptID": "script_id",
    "PausesServiceLevel": "pauses_service_level",
    "AutoCloseAfterHours": "auto_close_after_hours",
    "AutoCloseStatusID": "auto_close_status_id",
    "ReopenStatusID": "reopen_status_id",
}


# --- DeleteCaseStatus -----------------------------------------------------------------------------------


class DeleteCaseStatus(Message, kw_only=True):
    ID: Id


@ops.operation(staff("CaseStatuses", Scope.DELETE), writes=True)
async def delete_case_status(ctx: Context, req: DeleteCaseStatus) -> EmptyResponse:
    await delete_status(ctx.conn, req.ID)
    return EmptyResponse()


# --- ListCaseStatuses -----------------------------------------------------------------------------------


class CaseStatusFilter(ListFilter, kw_only=True):
    Name: FilterText | None = None
    Description: FilterText | None = None


class ListCaseStatusesPageConfig(PageConfig, kw_only=True):
    Filter: CaseStatusFilter | None = None


class ListCaseStatuses(PagedRequest, kw_only=True):
    InitialPageConfig: ListCaseStatusesPageConfig | None = None


class ListCaseStatusesResponse(PagedResponse, kw_only=True):
    Results: list[CaseStatusDto]


@ops.operation(staff("CaseStatuses", Scope.VIEW), writes=False)
async def list_case_statuses(ctx: Context, req: ListCaseStatuses) -> ListCaseStatusesResponse:
    config = req.InitialPageConfig or ListCaseStatusesPageConfig()
    f = config.Filter or CaseStatusFilter()
    page_req = ctx.page_tokens.request(
        "ListCaseStatuses", req.PageToken, config.Limit, {"Name": f.Name, "Description": f.Description}
    )
    page = await ctx.fetch_page(
        SQL,
        "list_statuses",
        page_req,
        lambda r: (r["id"],),
        bound_id=page_req.id_key(),
        name=contains_pattern(page_req.filter.get("Name")),
        description=contains_pattern(page_req.filter.get("Description")),
    )
    return ListCaseStatusesResponse(Results=[status_dto(r) for r in page.rows], **page.tokens())
