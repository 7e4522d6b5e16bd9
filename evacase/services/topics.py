"""Case topics: ListCaseTopics (customers pick a topic with it; staff need CaseTopics:View), and the employee
catalogue CreateCaseTopic, GetCaseTopic, UpdateCaseTopic, DeleteCaseTopic.

Topics form a tree (ParentID, set on creation only, at most MAX_DEPTH levels); names are unique among the live
children of one parent. Deleting a topic soft-deletes it and everything below it: they leave the catalogue and
can no longer be picked, but cases filed under them keep them (shown with IsDeleted: true on the case)."""

from __future__ import annotations

from typing import Annotated

import asyncpg
import msgspec

from evacase.auth import Scope, UserType
from evacase.context import Context
from evacase.db import contains_pattern, load_queries
from evacase.domain.topics import MAX_DEPTH, depth_exceeded
from evacase.errors import (
    CaseTopicCanNotFilterOnBothRootOnlyAndParent,
    CaseTopicNotFound,
    CaseTopicParentNotFound,
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
)
from evacase.registry import Access, OperationSet, staff

ops = OperationSet()

SQL = load_queries("topics")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\S")]
Description = Annotated[str, msgspec.Meta(max_length=1000)]
BackendID = Annotated[str, msgspec.Meta(max_length=256)]


class CaseTopicDto(Message, kw_only=True):
    ID: int
    Name: str | None = None
    Description: str | None = None
    ParentID: int | None = None
    BackendID: str | None = None
    DisplayName: str | None = None


def topic_dto(row: asyncpg.Record, staff_view: bool = True) -> CaseTopicDto:
    return CaseTopicDto(
        ID=row["id"],
        Name=row["name"],
        Description=row["description"],
        ParentID=row["parent_id"],
        BackendID=row["backend_id"] if staff_view else None,
        DisplayName=row["display_name"],
    )


# --- ListCaseTopics -------------------------------------------------------------------------------------


class CaseTopicFilter(ListFilter, kw_only=True):
    Name: FilterText | None = None
    Description: FilterText | None = None
    ParentID: Id | None = None
    RootOnly: bool = False


class ListCaseTopicsPageConfig(PageConfig, kw_only=True):
    Filter: CaseTopicFilter | None = None


class ListCaseTopics(PagedRequest, kw_only=True):
    InitialPageConfig: ListCaseTopicsPageConfig | None = None


class ListCaseTopicsResponse(PagedResponse, kw_only=True):
    Results: list[CaseTopicDto]


@ops.operation(
    Access(
        user_types=UserType.EMPLOYEE | UserType.API | UserType.CUSTOMER,
        functionality=("CaseTopics", Scope.VIEW),
        exempt=UserType.CUSTOMER,
    ),
    writes=False,
)
async def list_case_topics(ctx: Context, req: ListCaseTopics) -> ListCaseTopicsResponse:
    config = req.InitialPageConfig or ListCaseTopicsPageConfig()
    f = config.Filter or CaseTopicFilter()
    if f.RootOnly and f.ParentID is not None:
        raise CaseTopicCanNotFilterOnBothRootOnlyAndParent()
    filters = {"Name": f.Name, "Description": f.Description, "ParentID": f.ParentID, "RootOnly": f.RootOnly}
    page_req = ctx.page_tokens.request("ListCaseTopics", req.PageToken, config.Limit, filters)
    fl = page_req.filter
    page = await ctx.fetch_page(
        SQL,
        "list_topics",
        page_req,
        lambda r: (r["id"],),
        bound_id=page_req.id_key(),
        name=contains_pattern(fl.get("Name")),
        description=contains_pattern(fl.get("Description")),
        parent_id=fl.get("ParentID"),
        root_only=bool(fl.get("RootOnly")),
    )
    staff_view = not ctx.caller.is_customer  # BackendIDs are internal
    return ListCaseTopicsResponse(Results=[topic_dto(r, staff_view) for r in page.rows], **page.tokens())


# --- CreateCaseTopic ------------------------------------------------------------------------------------


class CreateCaseTopic(Message, kw_only=True):
    Name: Name
    Description: Description | None = None
    BackendID: BackendID | None = None
    ParentID: Id | None = None


class CreateCaseTopicResponse(Message, kw_only=True):
    ID: int


@ops.operation(staff("CaseTopics", Scope.CREATE), writes=True, one_statement=True)
async def create_case_topic(ctx: Context, req: CreateCaseTopic) -> CreateCaseTopicResponse:
    row = await ctx.conn.fetchrow(
        *SQL.bound(
            "create_topic",
            name=req.Name,
            parent_id=req.ParentID,
            description=req.Description,
            backend_id=req.BackendID,
            max_depth=MAX_DEPTH,
        )
    )
    if not row["parent_ok"]:
        raise CaseTopicParentNotFound()
    if row["id"] is None:
        raise depth_exceeded()
    return CreateCaseTopicResponse(ID=row["id"])


# --- GetCaseTopic ---------------------------------------------------------------------------------------


class GetCaseTopic(Message, kw_only=True):
    ID: Id


class GetCaseTopicResponse(CaseTopicDto, kw_only=True):
    pass


@ops.operation(staff("CaseTopics", Scope.VIEW), writes=False)
async def get_case_topic(ctx: Context, req: GetCaseTopic) -> GetCaseTopicResponse:
    row = await ctx.conn.fetchrow(SQL["get_topic"], req.ID)
    if row is None:
        raise CaseTopicNotFound()
    return GetCaseTopicResponse(**msgspec.structs.asdict(topic_dto(row)))


# --- UpdateCaseTopic ------------------------------------------------------------------------------------


class UpdateCaseTopic(Message, kw_only=True):
    ID: Id
    Name: Name | msgspec.UnsetType = msgspec.UNSET
    Description: Description | msgspec.UnsetType | None = msgspec.UNSET
    BackendID: BackendID | msgspec.UnsetType | None = msgspec.UNSET


@ops.operation(staff("CaseTopics", Scope.EDIT), writes=True, one_statement=True)
async def update_case_topic(ctx: Context, req: UpdateCaseTopic) -> EmptyResponse:
    updated = await ctx.conn.fetchval(
        *SQL.bound(
            "update_topic",
            topic_id=req.ID,
            name=None if req.Name is msgspec.UNSET else req.Name,
            set_description=req.Description is not msgspec.UNSET,
            description=None if req.Description is msgspec.UNSET else req.Description,
            set_backend_id=req.BackendID is not msgspec.UNSET,
            backend_id=None if req.BackendID is msgspec.UNSET else req.BackendID,
        )
    )
    if updated is None:
        raise CaseTopicNotFound()
    return EmptyResponse()


# --- DeleteCaseTopic ------------------------------------------------------------------------------------


class DeleteCaseTopic(Message, kw_only=True):
    ID: Id


@ops.operation(staff("CaseTopics", Scope.DELETE), writes=True, one_statement=True)
async def delete_case_topic(ctx: Context, req: DeleteCaseTopic) -> EmptyResponse:
    deleted = await ctx.conn.fetch(SQL["delete_topic"], req.ID)
    if not deleted:
        raise CaseTopicNotFound()
    return EmptyResponse()
