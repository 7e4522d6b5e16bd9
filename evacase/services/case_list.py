"""ListCases: the employee's case list, newest first, with EVA's filters, behind keyset PageTokens.

The WHERE clause is assembled from a fixed whitelist of SQL fragments, one per filter, each comparing one
column with one parameter, so each filter can use its index (schema.sql: cases_list_*_idx); values travel
only as parameters, and each list is planned for its values (CUSTOM_PLANS). Archived cases are left out;
organization-unit restrictions apply as everywhere."""

from __future__ import annotations

from typing import Any

import asyncpg

from evacase.auth import Scope
from evacase.context import Context
from evacase.db import contains_pattern, load_queries
from evacase.domain.cases import visible_units
from evacase.messages import FilterText, Id, Message, PageConfig, PagedRequest, PagedResponse, full_name, iso_ms
from evacase.registry import OperationSet, staff
from evacase.services.wire import CaseCustomerName, Priority, UserRef, case_customer, user_ref

ops = OperationSet()

SQL = load_queries("cases")

# Filter field -> condition on the parameter `{}` (filled with its $n). Title is a case-insensitive `contains`.
FILTERS = {
    "ID": "c.id = {}",
    "BackendID": "c.backend_id = {}",
    "Title": "c.title ILIKE {}",
    "TopicID": "c.topic_id = {}",
    "StatusID": "c.status_id = {}",
    "Priority": "c.priority = {}",
    "CustomerID": "c.customer_id = {}",
    "AssigneeID": "c.assignee_id = {}",
    "AssignedOrganizationUnitID": "c.assigned_organization_unit_id = {}",
    "OriginatingOrganizationUnitID": "c.originating_organization_unit_id = {}",
    "OrderID": "c.order_id = {}",
    "ExternalOrderIdentifier": "c.external_order_identifier = {}",
}
VISIBLE_UNITS = "visible_to_units(c.assigned_organization_unit_id, {}::bigint[])"
AFTER, BEFORE = {"bound": "< $1", "order": "DESC"}, {"bound": "> $1", "order": "ASC"}
# Plan each list for its values: a generic plan guesses a status, topic or priority value selects an average share
# of the cases and may read thousands of rows in ID order to fill a page of a rare one. Transaction-scoped: no
# session state outlives the request.
CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"


class CaseFilter(Message, kw_only=True):
    ID: Id | None = None
    BackendID: FilterText | None = None
    Title: FilterText | None = None
    TopicID: Id | None = None
    StatusID: Id | None = None
    Priority: Priority | None = None
    CustomerID: Id | None = None
    AssigneeID: Id | None = None
    AssignedOrganizationUnitID: Id | None = None
    OriginatingOrganizationUnitID: Id | None = None
    OrderID: Id | None = None
    ExternalOrderIdentifier: FilterText | None = None


class ListCasesPageConfig(PageConfig, kw_only=True):
    Filter: CaseFilter | None = None


class ListCases(PagedRequest, kw_only=True):
    InitialPageConfig: ListCasesPageConfig | None = None


class CaseListItem(Message, kw_only=True):
    ID: int
    Title: str | None = None
    Priority: int
    StatusID: int
    StatusName: str | None = None
    StatusColor: str | None = None
    TopicID: int | None = None
    TopicName: str | None = None
    CustomerID: int | None = None
    Customer: CaseCustomerName | None = None
    AssigneeID: int | None = None
    AssigneeName: str | None = None
    AssignedOrganizationUnitID: int | None = None
    AssignedOrganizationUnitName: str | None = None
    OriginatingOrganizationUnitID: int | None = None
    OriginatingOrganizationUnitName: str | None = None
    BackendID: str | None = None
    ExternalOrderIdentifier: str | None = None
    OrderID: int | None = None
    ReportingTime: str
    CreationTime: str
    LastInteractionTime: str | None = None
    LastModificationTime: str | None = None
    CreatedBy: UserRef | None = None
    LastModifiedBy: UserRef | None = None


class ListCasesResponse(PagedResponse, kw_only=True):
    Results: list[CaseListItem]


def list_query(filters: dict[str, Any], units: list[int] | None, forward: bool) -> tuple[str, list[Any]]:
    """The SQL and the parameters (after $1 bound and $2 limit) for these filters."""
    conditions, params = [], []
    for field, value in filters.items():
        if value is not None:
            params.append(contains_pattern(value) if field == "Title" else value)
            conditions.append("AND " + FILTERS[field].format(f"${len(params) + 2}"))
    if units is not None:
        params.append(units)
        conditions.append("AND " + VISIBLE_UNITS.format(f"${len(params) + 2}"))
    sql = SQL["list_cases"].format(**(AFTER if forward else BEFORE), conditions="\n  ".join(conditions))
    return sql, params


def list_item(r: asyncpg.Record) -> CaseListItem:
    return CaseListItem(
        ID=r["id"],
        Title=r["title"],
        Priority=r["priority"],
        StatusID=r["status_id"],
        StatusName=r["status_name"],
        StatusColor=r["status_color"],
        TopicID=r["topic_id"],
        TopicName=r["topic_name"],
        CustomerID=r["customer_id"],
        Customer=case_customer(r, CaseCustomerName),
        AssigneeID=r["assignee_id"],
        AssigneeName=full_name(r["assignee_first_name"], r["assignee_last_name"]),
        AssignedOrganizationUnitID=r["assigned_organization_unit_id"],
        AssignedOrganizationUnitName=r["assigned_unit_name"],
        OriginatingOrganizationUnitID=r["originating_organization_unit_id"],
        OriginatingOrganizationUnitName=r["originating_unit_name"],
        BackendID=r["backend_id"],
        ExternalOrderIdentifier=r["external_order_identifier"],
        OrderID=r["order_id"],
        ReportingTime=iso_ms(r["reporting_time"]),
        CreationTime=iso_ms(r["creation_time"]),
        LastInteractionTime=iso_ms(r["last_interaction_time"]),
        LastModificationTime=iso_ms(r["last_modification_time"]),
        CreatedBy=user_ref(r["created_by"], r["created_by_first_name"], r["created_by_last_name"]),
        LastModifiedBy=user_ref(r["last_modified_by"], r["modified_by_first_name"], r["modified_by_last_name"]),
    )


@ops.operation(staff("Cases", Scope.VIEW), writes=False)
async def list_cases(ctx: Context, req: ListCases) -> ListCasesResponse:
    config = req.InitialPageConfig or ListCasesPageConfig()
    f = config.Filter or CaseFilter()
    filters = {field: getattr(f, field) for field in FILTERS}
    page_req = ctx.page_tokens.request("ListCases", req.PageToken, config.Limit, filters)
    sql, params = list_query({k: page_req.filter.get(k) for k in FILTERS}, visible_units(ctx.caller), page_req.forward)
    async with ctx.conn.transaction(readonly=True):
        await ctx.conn.execute(CUSTOM_PLANS)
        rows = await ctx.conn.fetch(sql, page_req.id_key(), page_req.limit + 1, *params)
    page = ctx.page_tokens.page(page_req, rows, lambda r: (r["id"],))
    return ListCasesResponse(Results=[list_item(r) for r in page.rows], **page.tokens())
