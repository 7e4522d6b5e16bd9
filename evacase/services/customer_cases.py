"""Customer-facing cases: CustomerCreateCase, CustomerUpdateCase, CustomerGetCaseByID, CustomerListCases, and
evacase's CustomerCancelCase and CustomerReopenCase.

A customer acts only on cases whose customer they are; anything else is answered as not found."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from evacase.context import Context
from evacase.db import contains_pattern, load_queries
from evacase.domain.cases import (
    DEFAULT_PRIORITY,
    NEW_STATUS_ID,
    NEW_STATUS_NAME,
    cancel_by_customer,
    fetch_title_search,
    lock_customer_case,
    reopen_by_customer,
)
from evacase.domain.changes import case_change_lines, case_creation_lines, record_case_change
from evacase.domain.contacts import contacts_json
from evacase.domain.custom_field_changes import apply_values, plan_changes, wanted_by_id
from evacase.domain.custom_field_view import CaseCustomFieldValue, case_custom_fields
from evacase.domain.custom_fields import CUSTOMER, CustomFieldValues, case_fields, encode_json, field_error
from evacase.domain.links import linked_cases
from evacase.domain.settings import CUSTOMER_REOPEN_WINDOW, SETTINGS, read_settings
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
    merged,
)
from evacase.paging import eva_time_micros
from evacase.registry import OperationSet
from evacase.services.wire import (
    CUSTOMER_ACCESS,
    CaseContact,
    Contacts,
    CustomerReference,
    LinkedCase,
    Reason,
    case_contacts,
    linked_case_views,
)

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
    CustomerReference: str | None = None  # evacase's own (seed 001, 002)


# --- CustomerCreateCase ---------------------------------------------------------------------------------


class CustomerCreateCase(Message, kw_only=True):
    Title: Title
    Description: Text
    TopicID: Id | None = None
    OrderID: Id | None = None
    CustomFields: CustomFieldValues | None = None  # an evacase extension: fields customers may edit
    CustomerReference: CustomerReference | None = None  # evacase's own (seed 001, 002)
    Contacts: Contacts | None = None  # evacase's own (seed 001): who else is told about the case


class CustomerCreateCaseResponse(Message, kw_only=True):
    ID: int


@ops.operation(CUSTOMER_ACCESS, writes=True, one_statement=True)
async def customer_create_case(ctx: Context, req: CustomerCreateCase) -> CustomerCreateCaseResponse:
    if req.TopicID is None:
        raise CaseCaseTopicIsRequiredForCase()
    contacts = contacts_json(req.Contacts, by_customer=True)
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
            customer_reference=req.CustomerReference,
            contacts=contacts,
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
    CustomerReference: CustomerReference | msgspec.UnsetType | None = msgspec.UNSET  # evacase's own


CUSTOMER_EDITABLE = {
    "Title": "title",
    "Description": "description",
    "TopicID": "topic_id",
    "CustomerReference": "customer_reference",
}


@ops.operation(CUSTOMER_ACCESS, writes=True)
async def customer_update_case(ctx: Context, req: CustomerUpdateCase) -> EmptyResponse:
    case = await lock_customer_case(ctx.conn, ctx.caller, req.ID)
    new = merged(
        req,
        case,
        {
            "Title": "title",
            "Description": "description",
            "TopicID": "topic_id",
            "CustomerReference": "customer_reference",
        },
    )
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
        await ctx.conn.execute(
            *SQL.bound(
                "customer_update_case",
                case_id=req.ID,
                title=title,
                description=description,
                topic_id=topic_id,
                customer_reference=new["customer_reference"],
            )
        )
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
    CancellationReason: str | None = None  # evacase's own (seed 001)
    Contacts: list[CaseContact] | None = None  # evacase's own: the contacts customers see
    LinkedCases: list[LinkedCase] | None = None  # evacase's own: links to other cases of theirs


@ops.operation(CUSTOMER_ACCESS, writes=False)
async def customer_get_case_by_id(ctx: Context, req: CustomerGetCaseByID) -> CustomerGetCaseByIDResponse:
    c = await ctx.conn.fetchrow(SQL["customer_get_case"], req.ID, ctx.caller.user_id)
    if c is None:
        raise CaseNotFound()
    editable = not c["is_closed"] and c["assignee_id"] is None
    return CustomerGetCaseByIDResponse(
        ID=req.ID,
        TopicID=c["topic_id"],
        TopicName=c["topic_name"],
        StatusID=c["status_id"],
        StatusName=c["status_name"],
        Priority=c["priority"],
        Title=c["title"],
        OrderID=c["order_id"],
        ReportingTime=c["reporting_at"],  # formatted by the query (eva_time), as ClosingTime
        CustomerReference=c["customer_reference"],
        Description=c["description"],
        IsWarranty=c["is_warranty"],
        ClosingTime=c["closing_at"],
        Solution=c["solution"],
        DescriptionCanBeModified=editable,
        IsTitleEditable=editable,
        IsDescriptionEditable=editable,
        BlobIDs=c["blob_ids"] or None,
        CustomFields=await case_custom_fields(ctx.conn, req.ID, CUSTOMER) or None if c["has_custom_fields"] else None,
        CancellationReason=c["cancellation_reason"],
        Contacts=await case_contacts(ctx.conn, req.ID, for_customer=True) if c["has_contacts"] else None,
        LinkedCases=(
            linked_case_views(await linked_cases(ctx.conn, req.ID, None, ctx.caller.user_id))
            if c["has_links"]
            else None
        ),
    )


# --- CustomerListCases ----------------------------------------------------------------------------------


class CustomerCaseFilter(ListFilter, kw_only=True):
    Title: FilterText | None = None
    CustomerReference: CustomerReference | None = None  # evacase's own: exactly this reference


class CustomerListCasesPageConfig(PageConfig, kw_only=True):
    Filter: CustomerCaseFilter | None = None


class CustomerListCases(PagedRequest, kw_only=True):
    InitialPageConfig: CustomerListCasesPageConfig | None = None


class CustomerListCasesResponse(PagedResponse, kw_only=True):
    Results: list[CustomerCaseDto]


# (how the list is filtered, forward) -> the statement: by reference (a title search too, if given), by a title
# search, or neither (its own statement: an optional filter left in would cost every plain page).
LIST_QUERIES = {
    ("reference", True): "customer_list_cases_by_reference_after",
    ("reference", False): "customer_list_cases_by_reference_before",
    ("title", True): "customer_list_cases_search_after",
    ("title", False): "customer_list_cases_search_before",
    ("none", True): "customer_list_cases_after",
    ("none", False): "customer_list_cases_before",
}


@ops.operation(CUSTOMER_ACCESS, writes=False)
async def customer_list_cases(ctx: Context, req: CustomerListCases) -> CustomerListCasesResponse:
    config = req.InitialPageConfig or CustomerListCasesPageConfig()
    f = config.Filter or CustomerCaseFilter()
    wanted = {"Title": f.Title, "CustomerReference": f.CustomerReference}
    page_req = ctx.page_tokens.request("CustomerListCases", req.PageToken, config.Limit, wanted)
    bound_time, bound_id = page_req.time_id_key()
    title = contains_pattern(page_req.filter.get("Title"))
    reference = page_req.filter.get("CustomerReference")
    by: dict[str, Any] = {}
    if reference is not None:
        kind, by = "reference", {"reference": reference, "title": title}
    elif title is not None:
        kind, by = "title", {"title": title}
    else:
        kind = "none"
    query = SQL.bound(
        LIST_QUERIES[kind, page_req.forward],
        customer_id=ctx.caller.user_id,
        bound_time=bound_time,
        bound_id=bound_id,
        limit=page_req.limit + 1,
        **by,
    )
    rows = await (fetch_title_search(ctx.conn, *query) if title is not None else ctx.conn.fetch(*query))
    page = ctx.page_tokens.page(page_req, rows, lambda r: (eva_time_micros(r["reporting_at"]), r["id"]))
    # Built field by field (not through case_summary's dict): this is the list's hot path. The rows are unpacked
    # by position (the four list queries' column order).
    results = [
        CustomerCaseDto(
            ID=id_,
            TopicID=topic_id,
            TopicName=topic_name,
            StatusID=status_id,
            StatusName=status_name,
            Priority=priority,
            Title=title_,
            OrderID=order_id,
            ReportingTime=reporting_at,  # formatted by the query (eva_time)
            CustomerReference=customer_reference,
        )
        for (
            id_,
            topic_id,
            topic_name,
            status_id,
            status_name,
            priority,
            title_,
            order_id,
            reporting_at,
            customer_reference,
        ) in page.rows
    ]
    return CustomerListCasesResponse(Results=results, **page.tokens())


# --- CustomerCancelCase, CustomerReopenCase (evacase's own: seed 001's cancel with a reason, seed 003's reopen) --


class CustomerCancelCase(Message, kw_only=True):
    ID: Id
    Reason: Reason


@ops.operation(CUSTOMER_ACCESS, writes=True)
async def customer_cancel_case(ctx: Context, req: CustomerCancelCase) -> EmptyResponse:
    await cancel_by_customer(ctx.conn, ctx.caller, req.ID, req.Reason)
    return EmptyResponse()


class CustomerReopenCase(Message, kw_only=True):
    ID: Id
    Reason: Reason


@ops.operation(CUSTOMER_ACCESS, writes=True)
async def customer_reopen_case(ctx: Context, req: CustomerReopenCase) -> EmptyResponse:
    window = (await read_settings(ctx.conn, {CUSTOMER_REOPEN_WINDOW: SETTINGS[CUSTOMER_REOPEN_WINDOW]}))[
        CUSTOMER_REOPEN_WINDOW
    ]
    await reopen_by_customer(ctx.conn, ctx.caller, req.ID, req.Reason, int(window))
    return EmptyResponse()
