"""Case topics: ListCaseTopics (customers pick a topic with it; employees need CaseTopics:View)."""

from __future__ import annotations

from evacase.auth import Scope, UserType
from evacase.context import Context
from evacase.db import contains_pattern, load_queries
from evacase.errors import ValidationFailed
from evacase.messages import FilterText, Id, Message, PageConfig, PagedRequest, PagedResponse
from evacase.registry import Access, registry

SQL = load_queries("topics")


class CaseTopicFilter(Message, kw_only=True):
    Name: FilterText | None = None
    Description: FilterText | None = None
    ParentID: Id | None = None
    RootOnly: bool = False


class ListCaseTopicsPageConfig(PageConfig, kw_only=True):
    Filter: CaseTopicFilter | None = None


class ListCaseTopics(PagedRequest, kw_only=True):
    InitialPageConfig: ListCaseTopicsPageConfig | None = None


class CaseTopicDto(Message, kw_only=True):
    ID: int
    Name: str | None = None
    Description: str | None = None
    ParentID: int | None = None
    BackendID: str | None = None
    DisplayName: str | None = None


class ListCaseTopicsResponse(PagedResponse, kw_only=True):
    Results: list[CaseTopicDto]


@registry.operation(
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
        raise ValidationFailed(
            "Filter.RootOnly and Filter.ParentID cannot be combined.", "CaseTopic:CanNotFilterOnBothRootOnlyAndParent"
        )
    filters = {"Name": f.Name, "Description": f.Description, "ParentID": f.ParentID, "RootOnly": f.RootOnly}
    page_req = ctx.page_tokens.request("ListCaseTopics", req.PageToken, config.Limit, filters)
    fl = page_req.filter
    query = SQL["list_topics_after" if page_req.forward else "list_topics_before"]
    staff = not ctx.caller.user_type & UserType.CUSTOMER
    rows = await ctx.conn.fetch(
        query,
        page_req.id_key(),
        contains_pattern(fl.get("Name")),
        contains_pattern(fl.get("Description")),
        fl.get("ParentID"),
        bool(fl.get("RootOnly")),
        page_req.limit + 1,
        staff,
    )
    page = ctx.page_tokens.page(page_req, rows, lambda r: (r["id"],))
    results = [
        CaseTopicDto(
            ID=r["id"],
            Name=r["name"],
            Description=r["description"],
            ParentID=r["parent_id"],
            BackendID=r["backend_id"] if staff else None,
            DisplayName=r["display_name"],
        )
        for r in page.rows
    ]
    return ListCaseTopicsResponse(Results=results, **page.tokens())
