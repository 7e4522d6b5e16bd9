"""ListCases: the employee's case list, newest first, with EVA's filters, behind keyset PageTokens.

The query is assembled from a fixed whitelist of SQL fragments (values travel only as parameters), so each
combination of filters is one prepared statement whose generic plan is reused (no planning per request). One
present filter *drives* the page (the first of DRIVERS): it is written as a range plus a row comparison with
the ID and the page is ordered by (value, ID), so only that filter's (value, id) index gives the order and the
plan reads one page of it, whatever the value's frequency and whether the plan is custom or generic (an
equality would let PostgreSQL drop the value from the order and walk all cases by ID, filtering). The other
filters are conditions on that page's rows. Title ("contains") without a driver uses the trigram index, planned
for its pattern. Archived cases are left out; organization-unit restrictions apply as everywhere."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Literal, LiteralString

import asyncpg

from evacase.auth import Scope
from evacase.context import Context
from evacase.db import contains_pattern, load_queries
from evacase.domain.cases import Viewer, case_viewer, fetch_title_search
from evacase.domain.tags import normalized_tag
from evacase.messages import (
    MAX_PAGE_SIZE,
    FilterText,
    Id,
    ListFilter,
    Message,
    PageConfig,
    PagedRequest,
    PagedResponse,
    full_name,
    iso_ms,
    to_utc,
)
from evacase.paging import BIGINT_MAX, from_micros, to_micros
from evacase.registry import OperationSet, staff
from evacase.services.wire import (
    CaseCustomerName,
    CaseServiceLevel,
    CustomerReference,
    Origin,
    Priority,
    TagText,
    UserRef,
    service_level,
    user_ref,
)

ops = OperationSet()

SQL = load_queries("cases")

# Filter field -> its column. Title is a case-insensitive `contains`; the others compare equal.
COLUMNS: dict[str, LiteralString] = {
    "ID": "id",
    "BackendID": "backend_id",
    "Title": "title",
    "TopicID": "topic_id",
    "StatusID": "status_id",
    "Priority": "priority",
    "CustomerID": "customer_id",
    "AssigneeID": "assignee_id",
    "AssignedOrganizationUnitID": "assigned_organization_unit_id",
    "OriginatingOrganizationUnitID": "originating_organization_unit_id",
    "OrderID": "order_id",
    "ExternalOrderIdentifier": "external_order_identifier",
    "CustomerReference": "customer_reference",
    "Origin": "origin",
    # evacase's own queue filters for the caller (their value in the query is the caller's ID)
    "AssignedToMe": "assignee_id",
    "CreatedByMe": "created_by",
}
# Tag drives the page from case_tags (case_tags_tag_idx); otherwise it is a condition.
TAG_CONDITION: LiteralString = "AND EXISTS (SELECT 1 FROM case_tags g WHERE g.case_id = c.id AND g.tag = {})"
# Unassigned is a condition: without a driver the page reads cases_list_unassigned_idx.
UNASSIGNED: LiteralString = "AND c.assignee_id IS NULL"
# evacase's own time-range filters (From inclusive, To exclusive): without an equality driver they drive the page,
# which is then ordered by last modification, latest first (cases_list_modified_idx), for sync pollers.
TIME_RANGE: dict[str, LiteralString] = {
    "LastModificationTimeFrom": "c.last_modification_time >= {}",
    "LastModificationTimeTo": "c.last_modification_time < {}",
}
# evacase's own queue filters (service levels): with any of them, or SortColumn DueDate, the page is the queue,
# what is due next first (case_service_levels_queue_idx), open cases with a due time only.
QUEUE: dict[str, LiteralString] = {
    "DueBefore": "q.next_due_at < {}",
    "IsOverdue": "q.next_due_at < now()",
    "IsBreached": (
        "(q.first_response_breached_at IS NOT NULL OR q.next_response_breached_at IS NOT NULL"
        " OR q.resolution_breached_at IS NOT NULL)"
    ),
    "IsAtRisk": "service_level_at_risk(q, false)",
}
FILTERS = (*COLUMNS, "Tag", "Unassigned", *TIME_RANGE, *QUEUE)
CALLER_FILTERS = ("AssignedToMe", "CreatedByMe")  # true in a request; the caller's ID in the query
ID_BOUND = "ID bound"  # the keyset bound's ID in a page ordered by a time (the time is $1)
EARLIEST = dt.datetime(1, 1, 1, tzinfo=dt.UTC)  # the queue's first bound: before every due time
# Filters that may drive the page, the most selective first (each has its cases_list_* index). ID needs none:
# it finds at most one case by the primary key.
DRIVERS = (
    "BackendID",
    "ExternalOrderIdentifier",
    "OrderID",
    "CustomerReference",
    "CustomerID",
    "Tag",
    "AssigneeID",
    "AssignedToMe",
    "CreatedByMe",
    "TopicID",
    "StatusID",
    "AssignedOrganizationUnitID",
    "OriginatingOrganizationUnitID",
    "Origin",
    "Priority",
)
# A caller limited to one case scope sees only cases its matching filter finds: that filter drives the page.
SCOPE_FILTERS: dict[tuple[str, ...], str] = {
    ("assigned",): "AssignedToMe",
    ("created",): "CreatedByMe",
    ("unassigned",): "Unassigned",
}
MAX_LIMIT = MAX_PAGE_SIZE + 1
VISIBLE: LiteralString = "case_visible(c.assigned_organization_unit_id, c.assignee_id, c.created_by, {}::case_viewer)"


class CaseFilter(ListFilter, kw_only=True):
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
    LastModificationTimeFrom: dt.datetime | None = None
    LastModificationTimeTo: dt.datetime | None = None
    DueBefore: dt.datetime | None = None
    IsOverdue: Literal[True] | None = None
    IsBreached: Literal[True] | None = None
    IsAtRisk: Literal[True] | None = None
    CustomerReference: CustomerReference | None = None
    Origin: Origin | None = None
    Tag: TagText | None = None
    AssignedToMe: Literal[True] | None = None
    Unassigned: Literal[True] | None = None
    CreatedByMe: Literal[True] | None = None


class ListCasesPageConfig(PageConfig, kw_only=True):
    Filter: CaseFilter | None = None
    SortColumn: Literal["ID", "DueDate"] | None = None  # evacase's own: DueDate is the agents' queue


class ListCases(PagedRequest, kw_only=True):
    InitialPageConfig: ListCasesPageConfig | None = None


class CaseListItem(Message):
    """Positional, its required fields first: a page builds 25 of them, and by keyword (msgspec matches each
    keyword to a field in turn) they cost 1.3-1.8 µs each against 0.3 µs by position."""

    ID: int
    Priority: int
    StatusID: int
    ReportingTime: str
    CreationTime: str
    Origin: str
    Title: str | None = None
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
    LastInteractionTime: str | None = None
    LastModificationTime: str | None = None
    CreatedBy: UserRef | None = None
    LastModifiedBy: UserRef | None = None
    DueDate: str | None = None
    ServiceLevel: CaseServiceLevel | None = None
    CustomerReference: str | None = None
    Tags: list[str] | None = None


class ListCasesResponse(PagedResponse, kw_only=True):
    Results: list[CaseListItem]


def list_query(
    filters: dict[str, Any], viewer: Viewer, forward: bool, limit: int, queue: bool = False
) -> tuple[str, list[Any]]:
    """The SQL and the parameters (after $1, the keyset bound) for these filters and a page of `limit` rows (the
    page size plus one). The limit is written into the SQL, a number between 2 and 101 that PageRequest checked:
    a generic plan takes a `LIMIT $n` for a tenth of the rows it may read, which at a million cases prices a
    whole scan and a sort below reading one page of an index."""
    if not (isinstance(limit, int) and 2 <= limit <= MAX_LIMIT):
        raise ValueError(f"page limit {limit!r} outside 2..{MAX_LIMIT}")
    present = tuple(field for field in FILTERS if filters.get(field) is not None)
    queue = queue or any(field in QUEUE for field in present)
    sql, order_of_params = _list_sql(present, viewer is not None, forward, limit, queue)
    params: list[Any] = [_param(f, filters) for f in order_of_params]
    if viewer is not None:
        params.append(viewer)
    return sql, params


def _param(field: str, filters: dict[str, Any]) -> Any:
    if field == ID_BOUND:
        return filters.get(ID_BOUND, BIGINT_MAX)
    if field == "Title":
        return contains_pattern(filters[field])
    if field in TIME_RANGE or field == "DueBefore":  # kept in page tokens as microseconds
        return from_micros(filters[field])
    return filters[field]


def by_modification(filters: dict[str, Any]) -> bool:
    """Whether the page is ordered by last modification (a time range without an equality driver or a queue)."""
    present = {f for f in FILTERS if filters.get(f) is not None}
    return bool(present & TIME_RANGE.keys()) and not present & set(DRIVERS) and not present & QUEUE.keys()


@functools.lru_cache(maxsize=1024)
def _list_sql(
    present: tuple[str, ...], restricted: bool, forward: bool, limit: int, queue: bool = False
) -> tuple[str, tuple[str, ...]]:
    """The statement for one shape of request (which filters, a restricted viewer or not, direction, page size),
    built once, and the filters whose values it takes from $2 on, in order (the viewer, when given, follows)."""
    fields: list[str] = []

    def param(field: str) -> LiteralString:
        fields.append(field)
        return "$" + str(len(fields) + 1)

    driver = None if queue else next((f for f in DRIVERS if f in present), None)
    conditions: list[LiteralString] = []
    direction: LiteralString = "DESC" if forward else "ASC"
    outer_order: LiteralString = f"c.id {direction}"
    source: LiteralString = "cases c"
    sort_value: LiteralString = "NULL::timestamptz"
    keyset: LiteralString
    order: LiteralString
    if queue:
        # What is due next first: $1 is the bound's due time; its ID follows as a parameter of its own.
        ascending: LiteralString = "ASC" if forward else "DESC"
        id_bound = param(ID_BOUND)
        source = "case_service_levels q JOIN cases c ON c.id = q.case_id"
        sort_value = "q.next_due_at"
        keyset = f"q.next_due_at IS NOT NULL AND (q.next_due_at, q.case_id) {'>' if forward else '<'} ($1, {id_bound})"
        order = f"q.next_due_at {ascending}, q.case_id {ascending}"
        outer_order = f"c.sort_value {ascending}, c.id {ascending}"
    elif driver is None and any(f in TIME_RANGE for f in present):
        # $1 is the bound's time; its ID follows as a parameter of its own.
        id_bound = param(ID_BOUND)
        sort_value = "c.last_modification_time"
        keyset = f"(c.last_modification_time, c.id) {'<' if forward else '>'} ($1, {id_bound})"
        order = f"c.last_modification_time {direction}, c.id {direction}"
        outer_order = f"c.sort_value {direction}, c.id {direction}"
    elif driver is None:
        keyset = "c.id < $1" if forward else "c.id > $1"
        order = "c.id DESC" if forward else "c.id ASC"
    elif driver == "Tag":
        bound = param(driver)
        source = "case_tags g JOIN cases c ON c.id = g.case_id"
        if forward:
            keyset = f"g.tag >= {bound} AND g.tag <= {bound} AND (g.tag, g.case_id) < ({bound}, $1)"
            order = "g.tag DESC, g.case_id DESC"
        else:
            keyset = f"g.tag >= {bound} AND g.tag <= {bound} AND (g.tag, g.case_id) > ({bound}, $1)"
            order = "g.tag ASC, g.case_id ASC"
    else:
        column, bound = COLUMNS[driver], param(driver)
        if forward:
            keyset = f"c.{column} >= {bound} AND c.{column} <= {bound} AND (c.{column}, c.id) < ({bound}, $1)"
            order = f"c.{column} DESC, c.id DESC"
        else:
            keyset = f"c.{column} >= {bound} AND c.{column} <= {bound} AND (c.{column}, c.id) > ({bound}, $1)"
            order = f"c.{column} ASC, c.id ASC"
    for field in present:
        if field == driver:
            continue
        if field == "Title":
            conditions.append(f"AND c.title ILIKE {param(field)}")
        elif field == "Tag":
            conditions.append(TAG_CONDITION.format(param(field)))
        elif field == "Unassigned":
            conditions.append(UNASSIGNED)
        elif field in TIME_RANGE:
            conditions.append("AND " + TIME_RANGE[field].format(param(field)))
        elif field == "DueBefore":
            conditions.append("AND " + QUEUE[field].format(param(field)))
        elif field in QUEUE:
            conditions.append("AND " + QUEUE[field])
        else:
            conditions.append(f"AND c.{COLUMNS[field]} = {param(field)}")
    if restricted:
        conditions.append("AND " + VISIBLE.format("$" + str(len(fields) + 2)))
    sql = SQL["list_cases"].format(
        source=source,
        sort_value=sort_value,
        keyset=keyset,
        conditions="\n      ".join(conditions),
        order=order,
        limit=str(limit),
        outer_order=outer_order,
    )
    return sql, tuple(fields)


def list_item(r: asyncpg.Record) -> CaseListItem:
    """One row of list_cases. Unpacked by position (the query's column order; tests/test_list_filters.py shows
    every column): looking 50 columns up by name cost more than half of a page's Python time."""
    (
        id_,
        title,
        priority,
        status_id,
        status_name,
        status_color,
        topic_id,
        topic_name,
        customer_id,
        customer_first,
        customer_last,
        customer_email,
        assignee_id,
        assignee_first,
        assignee_last,
        assigned_unit_id,
        assigned_unit_name,
        originating_unit_id,
        originating_unit_name,
        backend_id,
        external_order_identifier,
        order_id,
        reporting_time,
        creation_time,
        last_interaction_time,
        last_modification_time,
        created_by,
        created_by_first,
        created_by_last,
        last_modified_by,
        modified_by_first,
        modified_by_last,
        _,  # sort_value: the page's keyset
        due_date,
        has_service_level,
        *_,  # the service level's columns, read by name when there is one
        customer_reference,
        origin,
        tags,
    ) = r
    return CaseListItem(
        id_,
        priority,
        status_id,
        reporting_time,  # the times formatted by the query (eva_time)
        creation_time,
        origin,
        title,
        status_name,
        status_color,
        topic_id,
        topic_name,
        customer_id,
        None
        if customer_id is None
        else CaseCustomerName(customer_first, customer_last, full_name(customer_first, customer_last), customer_email),
        assignee_id,
        full_name(assignee_first, assignee_last),
        assigned_unit_id,
        assigned_unit_name,
        originating_unit_id,
        originating_unit_name,
        backend_id,
        external_order_identifier,
        order_id,
        last_interaction_time,
        last_modification_time,
        user_ref(created_by, created_by_first, created_by_last),
        user_ref(last_modified_by, modified_by_first, modified_by_last),
        iso_ms(due_date),
        service_level(r) if has_service_level else None,
        customer_reference,
        tags or None,
    )


@ops.operation(staff("Cases", Scope.VIEW), writes=False)
async def list_cases(ctx: Context, req: ListCases) -> ListCasesResponse:
    config = req.InitialPageConfig or ListCasesPageConfig()
    f = config.Filter or CaseFilter()
    filters: dict[str, Any] = {field: getattr(f, field) for field in FILTERS}
    for field in (*TIME_RANGE, "DueBefore"):  # page tokens keep them as microseconds
        if filters[field] is not None:
            filters[field] = to_micros(to_utc(filters[field], field))
    if filters["Tag"] is not None:
        filters["Tag"] = normalized_tag(filters["Tag"], "Filter.Tag")
    filters["SortColumn"] = config.SortColumn
    page_req = ctx.page_tokens.request("ListCases", req.PageToken, config.Limit, filters)
    chosen = {k: page_req.filter.get(k) for k in FILTERS}
    scope_filter = SCOPE_FILTERS.get(ctx.caller.case_scopes or ())
    if scope_filter is not None:
        chosen[scope_filter] = True
    for field in CALLER_FILTERS:
        if chosen[field] is not None:
            chosen[field] = ctx.caller.user_id
    viewer = case_viewer(ctx.caller)
    if page_req.filter.get("SortColumn") == "DueDate" or any(chosen.get(q) is not None for q in QUEUE):
        bound_due, chosen[ID_BOUND] = (from_micros(page_req.key[0]), page_req.key[1]) if page_req.key else (EARLIEST, 0)
        sql, params = list_query(chosen, viewer, page_req.forward, page_req.limit + 1, queue=True)
        rows = await ctx.conn.fetch(sql, bound_due, *params)
        page = ctx.page_tokens.page(page_req, rows, lambda r: (to_micros(r["sort_value"]), r["id"]))
        return ListCasesResponse(Results=[list_item(r) for r in page.rows], **page.tokens())
    if by_modification(chosen):
        bound_time, chosen[ID_BOUND] = page_req.time_id_key()
        sql, params = list_query(chosen, viewer, page_req.forward, page_req.limit + 1)
        rows = await ctx.conn.fetch(sql, bound_time, *params)
        page = ctx.page_tokens.page(page_req, rows, lambda r: (to_micros(r["sort_value"]), r["id"]))
        return ListCasesResponse(Results=[list_item(r) for r in page.rows], **page.tokens())
    sql, params = list_query(chosen, viewer, page_req.forward, page_req.limit + 1)
    if chosen["Title"] is not None and not any(chosen.get(d) is not None for d in DRIVERS):
        rows = await fetch_title_search(ctx.conn, sql, page_req.id_key(), *params)
    else:
        rows = await ctx.conn.fetch(sql, page_req.id_key(), *params)
    page = ctx.page_tokens.page(page_req, rows, lambda r: (r["id"],))
    return ListCasesResponse(Results=[list_item(r) for r in page.rows], **page.tokens())
