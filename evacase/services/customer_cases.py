"""Customer-facing cases: CustomerCreateCase, CustomerUpdateCase, CustomerGetCaseByID, CustomerListCases.

A customer acts only on cases whose customer they are; anything else is answered as not found."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import msgspec

from evacase.context import Context
from evacase.db import contains_pattern, load_queries
from evacase.domain.cases import (
    DEFAULT_PRIORITY,
    NEW_STATUS_ID,
    NEW_STATUS_NAME,
    fetch_title_search,
    lock_customer_case,
)
from evacase.domain.changes import case_change_lines, case_creation_lines, record_case_change
from evacase.domain.custom_field_changes import apply_values, plan_changes, wanted_by_id
from evacase.domain.custom_field_view import CaseCustomFieldValue, case_custom_fields
from evacase.domain.custom_fields import CUSTOMER, CustomFieldValues, case_fields, encode_json, field_error
from evacase.errors import (
    CaseCannotUpdateTitleOrDescriptionAfterAssignment,
    CaseCaseTopicIsRequiredForCase,
    CaseNotFound,
    CaseTopicNotFound,
    OrderNotFound,
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
    iso_ms,
    merged,
)
from evacase.paging import to_micros
from evacase.registry import OperationSet
from evacase.services.wire import CUSTOMER_ACCESS

ops = OperationSet()

SQL = load_queries("cases")


Title = Annotated[str, msgspec.Meta(min_length=5, max_length=200, pattern=r"\S")]


class CustomerCaseDto(Message, kw_only=True):
    """A case as CustomerListCases lists it (CustomerGetCaseByID adds the details)."""

    ID: int
    TopicID: int | None = None
    TopicName: str | None = None
    StatusID: int
    StatusName: str | None = None
    Priority: int
    Title: str | None = None
    OrderID: int | None = None
    ReportingTime: str


def case_summary(row: asyncpg.Record) -> dict[str, Any]:
    """The CustomerCaseDto fields of a case row."""
    return {
        "ID": row["id"],
        "TopicID": row["topic_id"],
        "TopicName": row["topic_name"],
        "StatusID": row["status_id"],
        "StatusName": row["status_name"],
        "Priority": row["priority"],
        "Title": row["title"],
        "OrderID": row["order_id"],
        "ReportingTime": iso_ms(row["reporting_time"]),
    }


# --- CustomerCreateCase ---------------------------------------------------------------------------------


class CustomerCreateCase(Message, kw_only=True):
    Title: Title
    Description: Text
    TopicID: Id | None = None
    OrderID: Id | None = None
    CustomFields: CustomFieldValues | None = None  # an evacase extension: fields customers may edit


class CustomerCreateCaseResponse(Message, kw_only=True):
    ID: int


@ops.operation(CUSTOMER_ACCESS, writes=True, one_statement=True)
async def customer_create_case(ctx: Context, req: CustomerCreateCase) -> CustomerCreateCaseResponse:
    if req.TopicID is None:
        raise CaseCaseTopicIsRequiredForCase()
    ledger = case_creation_lines("created", DEFAULT_PRIORITY, NEW_STATUS_NAME)
    ids: list[int] | None = None
    values: list[str] | None = None
    note = None
    if req.CustomFields:  # checked here first (a read); otherwise the one statement applies defaults itself
        fields = await case_fields(ctx.conn)
        wanted = wanted_by_id(fields, req.CustomFields, CUSTOMER)
        changes = plan_changes(fields, wanted, {}, creating=True, editor=CUSTOMER)
        ids, values, note = list(changes.set), [encode_json(v) for v in changes.set.values()], changes.note
    row = await ctx.conn.fetchrow(
        *SQL.bound(
            "customer_create_case",
            customer_id=ctx.caller.user_id,
            topic_id=req.TopicID,
            title=req.Title,
            description=req.Description,
            order_id=req.OrderID,
            ledger_lines=ledger,
            priority=DEFAULT_PRIORITY,
            status_id=NEW_STATUS_ID,
            field_ids=ids,
            field_values=values,
            field_note=note,
        )
    )
    if not row["topic_ok"]:
        raise CaseTopicNotFound()
    if not row["order_ok"]:
        raise OrderNotFound()
    if row["missing_field_id"] is not None:
        name, field_id = row["missing_field_name"], row["missing_field_id"]
        raise field_error("Required", f"Custom field `{name}` is required.", field_id)
    return CustomerCreateCaseResponse(ID=row["case_id"])


# --- CustomerUpdateCase ---------------------------------------------------------------------------------


class CustomerUpdateCase(Message, kw_only=True):
    ID: Id
    Title: Title | msgspec.UnsetType = msgspec.UNSET
    Description: Text | msgspec.UnsetType = msgspec.UNSET
    TopicID: Id | msgspec.UnsetType = msgspec.UNSET
    CustomFields: CustomFieldValues | None = None  # an evacase extension: fields customers may edit


@ops.operation(CUSTOMER_ACCESS, writes=True)
async def customer_update_case(ctx: Context, req: CustomerUpdateCase) -> EmptyResponse:
    case = await lock_customer_case(ctx.conn, ctx.caller, req.ID)
    new = merged(req, case, {"Title": "title", "Description": "description", "TopicID": "topic_id"})
    title, description, topic_id = new["title"], new["description"], new["topic_id"]
    if (title != case["title"] or description != case["description"]) and case["assignee_id"] is not None:
        raise CaseCannotUpdateTitleOrDescriptionAfterAssignment()
    names = {}
    if topic_id != case["topic_id"]:
        topic = await ctx.conn.fetchrow(SQL["customer_get_topic"], topic_id)
        if topic is None:
            raise CaseTopicNotFound()
        names["topic"] = topic["name"]
    ledger = case_change_lines(case, new, names)
    if ledger:
        await ctx.conn.execute(SQL["customer_update_case"], req.ID, title, description, topic_id)
        await record_case_change(ctx.conn, req.ID, ctx.caller.user_id, ledger)
    if req.CustomFields:
        await apply_values(
            ctx.conn, req.ID, req.CustomFields, user_type=CUSTOMER, author_id=ctx.caller.user_id, creating=False
        )
    return EmptyResponse()


# --- CustomerGetCaseByID --------------------------------------------------------------------------------


class CustomerGetCaseByID(Message, kw_only=True):
    ID: Id


class CustomerGetCaseByIDResponse(CustomerCaseDto, kw_only=True):
    Description: str | None = None
    IsWarranty: bool
    ClosingTime: str | None = None
    Solution: str | None = None
    DescriptionCanBeModified: bool
    IsTitleEditable: bool
    IsDescriptionEditable: bool
    BlobIDs: list[str] | None = None
    CustomFields: dict[int, CaseCustomFieldValue] | None = None  # an evacase extension: what customers may see


@ops.operation(CUSTOMER_ACCESS, writes=False)
async def customer_get_case_by_id(ctx: Context, req: CustomerGetCaseByID) -> CustomerGetCaseByIDResponse:
    c = await ctx.conn.fetchrow(SQL["customer_get_case"], req.ID, ctx.caller.user_id)
    if c is None:
        raise CaseNotFound()
    editable = not c["is_closed"] and c["assignee_id"] is None
    return CustomerGetCaseByIDResponse(
        **case_summary(c),
        Description=c["description"],
        IsWarranty=c["is_warranty"],
        ClosingTime=iso_ms(c["closing_time"]),
        Solution=c["solution"],
        DescriptionCanBeModified=editable,
        IsTitleEditable=editable,
        IsDescriptionEditable=editable,
        BlobIDs=[str(b) for b in c["blob_ids"]] or None,
        CustomFields=await case_custom_fields(ctx.conn, c["id"], CUSTOMER) or None if c["has_custom_fields"] else None,
    )


# --- CustomerListCases ----------------------------------------------------------------------------------


class CustomerCaseFilter(ListFilter, kw_only=True):
    Title: FilterText | None = None


class CustomerListCasesPageConfig(PageConfig, kw_only=True):
    Filter: CustomerCaseFilter | None = None


class CustomerListCases(PagedRequest, kw_only=True):
    InitialPageConfig: CustomerListCasesPageConfig | None = None


class CustomerListCasesResponse(PagedResponse, kw_only=True):
    Results: list[CustomerCaseDto]


@ops.operation(CUSTOMER_ACCESS, writes=False)
async def customer_list_cases(ctx: Context, req: CustomerListCases) -> CustomerListCasesResponse:
    config = req.InitialPageConfig or CustomerListCasesPageConfig()
    f = config.Filter or CustomerCaseFilter()
    page_req = ctx.page_tokens.request("CustomerListCases", req.PageToken, config.Limit, {"Title": f.Title})
    bound_time, bound_id = page_req.time_id_key()
    title = contains_pattern(page_req.filter.get("Title"))
    query = SQL.bound(
        "customer_list_cases_after" if page_req.forward else "customer_list_cases_before",
        customer_id=ctx.caller.user_id,
        bound_time=bound_time,
        bound_id=bound_id,
        title=title,
        limit=page_req.limit + 1,
    )
    rows = await (fetch_title_search(ctx.conn, *query) if title is not None else ctx.conn.fetch(*query))
    page = ctx.page_tokens.page(page_req, rows, lambda r: (to_micros(r["reporting_time"]), r["id"]))
    # Built field by field (not through case_summary's dict): this is the list's hot path.
    results = [
        CustomerCaseDto(
            ID=r["id"],
            TopicID=r["topic_id"],
            TopicName=r["topic_name"],
            StatusID=r["status_id"],
            StatusName=r["status_name"],
            Priority=r["priority"],
            Title=r["title"],
            OrderID=r["order_id"],
            ReportingTime=r["reporting_at"],  # formatted by the query (eva_time)
        )
        for r in page.rows
    ]
    return CustomerListCasesResponse(Results=results, **page.tokens())
