"""Organization units, a small reference table: SetOrganizationUnit and ListOrganizationUnits (evacase's own
services). Cases reference units by ID; the table gives them names (GetCaseByID, ListCases) and lets PushCase
find units by BackendID. A case may reference a unit the table does not know: it is shown without a name."""

from __future__ import annotations

from typing import Annotated

import msgspec

from evacase.auth import Scope
from evacase.context import Context
from evacase.db import contains_pattern, load_queries
from evacase.messages import EmptyResponse, FilterText, Id, ListFilter, Message, PageConfig, PagedRequest, PagedResponse
from evacase.registry import OperationSet, staff

ops = OperationSet()

SQL = load_queries("organization_units")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
BackendID = Annotated[str, msgspec.Meta(max_length=256)]


class SetOrganizationUnit(Message, kw_only=True):
    ID: Id
    Name: Name
    BackendID: BackendID | None = None


@ops.operation(staff("OrganizationUnits", Scope.EDIT), writes=True, one_statement=True)
async def set_organization_unit(ctx: Context, req: SetOrganizationUnit) -> EmptyResponse:
    await ctx.conn.execute(SQL["set_unit"], req.ID, req.BackendID, req.Name)
    return EmptyResponse()


class OrganizationUnitFilter(ListFilter, kw_only=True):
    Name: FilterText | None = None


class ListOrganizationUnitsPageConfig(PageConfig, kw_only=True):
    Filter: OrganizationUnitFilter | None = None


class ListOrganizationUnits(PagedRequest, kw_only=True):
    InitialPageConfig: ListOrganizationUnitsPageConfig | None = None


class OrganizationUnitDto(Message, kw_only=True):
    ID: int
    Name: str
    BackendID: str | None = None


class ListOrganizationUnitsResponse(PagedResponse, kw_only=True):
    Results: list[OrganizationUnitDto]


@ops.operation(staff("OrganizationUnits", Scope.VIEW), writes=False)
async def list_organization_units(ctx: Context, req: ListOrganizationUnits) -> ListOrganizationUnitsResponse:
    config = req.InitialPageConfig or ListOrganizationUnitsPageConfig()
    f = config.Filter or OrganizationUnitFilter()
    page_req = ctx.page_tokens.request("ListOrganizationUnits", req.PageToken, config.Limit, {"Name": f.Name})
    page = await ctx.fetch_page(
        SQL,
        "list_units",
        page_req,
        lambda r: (r["id"],),
        bound_id=page_req.id_key(),
        name=contains_pattern(page_req.filter.get("Name")),
    )
    results = [OrganizationUnitDto(ID=r["id"], Name=r["name"], BackendID=r["backend_id"]) for r in page.rows]
    return ListOrganizationUnitsResponse(Results=results, **page.tokens())
