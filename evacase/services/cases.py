"""Employee-side cases: CreateCase, GetCaseByID, UpdateCase, UpdateCaseState, UpdateCaseSummary, ArchiveCase.

Employees and API users act within their functionalities (Cases:Create/View/Edit/Delete). A caller whose token
names organization units sees only cases assigned to none of them or to one of those; other cases are not
found. Every change writes ledger lines in the same transaction; closed and archived cases are read-only
(UpdateCaseState may reopen a closed one)."""

from __future__ import annotations

from typing import Annotated

import asyncpg
import msgspec

from evacase.auth import Scope
from evacase.context import Context
from evacase.db import load_queries
from evacase.domain.cases import (
    NEW_STATUS_ID,
    NEW_STATUS_NAME,
    assignee_name,
    change_case_state,
    check_priority,
    check_unit,
    lock_staff_case,
    visible_units,
)
from evacase.domain.changes import case_change_lines, case_creation_lines, record_case_change
from evacase.domain.custom_field_changes import apply_values
from evacase.domain.custom_field_view import CaseCustomFieldValue, case_custom_fields
from evacase.domain.custom_fields import CustomFieldValues
from evacase.domain.users import find_user
from evacase.errors import (
    CaseCanOnlyArchiveClosedCases,
    CaseCaseTopicIsRequiredForCase,
    CaseNotFound,
    CaseOriginatingOrganizationUnitCanOnlyBeSetOnce,
    CaseTopicNotFound,
    UserNotFound,
)
from evacase.messages import EmptyResponse, Id, Message, full_name, iso_ms, merged
from evacase.registry import OperationSet, staff
from evacase.services.wire import (
    CaseCustomer,
    ExternalOrderIdentifier,
    Priority,
    UserRef,
    case_customer,
    user_ref,
)

ops = OperationSet()

SQL = load_queries("cases")

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=r"\S")]
Description = Annotated[str, msgspec.Meta(max_length=10_000)]
BackendID = Annotated[str, msgspec.Meta(max_length=256)]
Summary = Annotated[str, msgspec.Meta(max_length=10_000)]


# --- CreateCase -----------------------------------------------------------------------------------------


class CreateCase(Message, kw_only=True):
    Title: Title
    Description: Description
    TopicID: Id | None = None
    CustomerID: Id | None = None
    Priority: Priority = 0
    AssigneeID: Id | None = None
    BackendID: BackendID | None = None
    ExternalOrderIdentifier: ExternalOrderIdentifier | None = None
    AssignedOrganizationUnitID: Id | None = None
    OriginatingOrganizationUnitID: Id | None = None
    CustomFields: CustomFieldValues | None = None


class CreateCaseResponse(Message, kw_only=True):
    ID: int


@ops.operation(staff("Cases", Scope.CREATE), writes=True)
async def create_case(ctx: Context, req: CreateCase) -> CreateCaseResponse:
    if req.TopicID is None:
        raise CaseCaseTopicIsRequiredForCase()
    check_priority(req.Priority)
    check_unit(ctx.caller, req.AssignedOrganizationUnitID)
    assignee = await assignee_name(ctx.conn, req.AssigneeID) if req.AssigneeID is not None else None
    ledger = case_creation_lines("created", req.Priority, NEW_STATUS_NAME, assignee)
    row = await ctx.conn.fetchrow(
        SQL["create_case"],
        ctx.caller.user_id,
        req.TopicID,
        req.CustomerID,
        req.Title,
        req.Description,
        req.Priority,
        NEW_STATUS_ID,
        req.BackendID,
        req.ExternalOrderIdentifier,
        req.AssigneeID,
        req.AssignedOrganizationUnitID,
        req.OriginatingOrganizationUnitID,
        ledger,
    )
    if not row["topic_ok"]:
        raise CaseTopicNotFound()
    if not row["customer_ok"]:
        raise UserNotFound()
    await apply_values(
        ctx.conn,
        row["case_id"],
        req.CustomFields,
        user_type=ctx.caller.user_type,
        author_id=ctx.caller.user_id,
        creating=True,
    )
    return CreateCaseResponse(ID=row["case_id"])


# --- GetCaseByID ----------------------------------------------------------------------------------------


class GetCaseByID(Message, kw_only=True):
    ID: Id


class CaseTopicData(Message, kw_only=True):
    TopicID: int | None = None
    TopicName: str | None = None
    TopicBackendID: str | None = None
    TopicDisplayName: str | None = None
    IsDeleted: bool
    CaseTopic: CaseTopicData | None = None  # the parent topic


class CaseBlob(Message, kw_only=True):
    ID: str
    Url: str | None = None


class CaseRelatedItemDto(Message, kw_only=True):
    ID: int
    OrderLineID: int | None = None
    ProductID: int | None = None
    SerialNumber: str | None = None
    IsWarranty: bool
    WarrantyExpiration: str | None = None
    WarrantyAdditionalInformation: str | None = None


async def related_items(conn: asyncpg.Connection, case_id: int) -> list[CaseRelatedItemDto]:
    """What GetCaseByID shows of a case's related items."""
    return [
        CaseRelatedItemDto(
            ID=r["id"],
            OrderLineID=r["order_line_id"],
            ProductID=r["product_id"],
            SerialNumber=r["serial_number"],
            IsWarranty=r["is_warranty"],
            WarrantyExpiration=iso_ms(r["warranty_expiration"]),
            WarrantyAdditionalInformation=r["warranty_additional_information"],
        )
        for r in await conn.fetch(SQL["related_items"], case_id)
    ]


class GetCaseByIDResponse(Message, kw_only=True):
    ID: int
    Title: str | None = None
    Description: str | None = None
    Priority: int
    StatusID: int
    StatusName: str | None = None
    StatusColor: str | None = None
    CaseTopic: CaseTopicData | None = None
    Customer: CaseCustomer | None = None
    AssigneeID: int | None = None
    AssigneeName: str | None = None
    AssigneeEmail: str | None = None
    AssignedOn: str | None = None
    AssignedOrganizationUnitID: int | None = None
    AssignedOrganizationUnitName: str | None = None
    OriginatingOrganizationUnitID: int | None = None
    OriginatingOrganizationUnitName: str | None = None
    BackendID: str | None = None
    ExternalOrderIdentifier: str | None = None
    OrderID: int | None = None
    Summary: str | None = None
    SummaryLastModificationDate: str | None = None
    SummaryLastModifiedByID: int | None = None
    Solution: str | None = None
    IsWarranty: bool
    IsArchived: bool  # an evacase extension: archived cases stay readable by ID
    IsTitleEditable: bool
    IsDescriptionEditable: bool
    BlobIDs: list[str] | None = None
    Blobs: list[CaseBlob] | None = None
    RelatedItems: list[CaseRelatedItemDto] | None = None
    ReportingTime: str
    ClosingTime: str | None = None
    LastInteractionTime: str | None = None
    CreationTime: str
    CreatedBy: UserRef | None = None
    LastModificationTime: str | None = None
    LastModifiedBy: UserRef | None = None
    CustomFieldValuesWithOptions: dict[int, CaseCustomFieldValue] | None = None


def topic_data(chain: list[asyncpg.Record]) -> CaseTopicData | None:
    """The topic and, nested, its parents (the chain comes topic first)."""
    data = None
    for t in reversed(chain):
        data = CaseTopicData(
            TopicID=t["id"],
            TopicName=t["name"],
            TopicBackendID=t["backend_id"],
            TopicDisplayName=t["display_name"],
            IsDeleted=t["is_deleted"],
            CaseTopic=data,
        )
    return data


@ops.operation(staff("Cases", Scope.VIEW), writes=False)
async def get_case_by_id(ctx: Context, req: GetCaseByID) -> GetCaseByIDResponse:
    c = await ctx.conn.fetchrow(SQL["get_case"], req.ID, visible_units(ctx.caller), ctx.caller.user_type)
    if c is None:
        raise CaseNotFound()
    chain = await ctx.conn.fetch(SQL["topic_chain"], c["topic_id"]) if c["topic_id"] is not None else []
    customer = case_customer(
        c, CaseCustomer, ID=c["customer_id"], BackendID=c["customer_backend_id"], PhoneNumber=c["customer_phone"]
    )
    editable = not c["is_closed"] and not c["is_archived"]
    blob_ids = [str(b) for b in c["blob_ids"]]
    return GetCaseByIDResponse(
        ID=c["id"],
        Title=c["title"],
        Description=c["description"],
        Priority=c["priority"],
        StatusID=c["status_id"],
        StatusName=c["status_name"],
        StatusColor=c["status_color"],
        CaseTopic=topic_data(chain),
        Customer=customer,
        AssigneeID=c["assignee_id"],
        AssigneeName=full_name(c["assignee_first_name"], c["assignee_last_name"]),
        AssigneeEmail=c["assignee_email"],
        AssignedOn=iso_ms(c["assigned_on"]),
        AssignedOrganizationUnitID=c["assigned_organization_unit_id"],
        AssignedOrganizationUnitName=c["assigned_unit_name"],
        OriginatingOrganizationUnitID=c["originating_organization_unit_id"],
        OriginatingOrganizationUnitName=c["originating_unit_name"],
        BackendID=c["backend_id"],
        ExternalOrderIdentifier=c["external_order_identifier"],
        OrderID=c["order_id"],
        Summary=c["summary"],
        SummaryLastModificationDate=iso_ms(c["summary_last_modification_time"]),
        SummaryLastModifiedByID=c["summary_last_modified_by"],
        Solution=c["solution"],
        IsWarranty=c["is_warranty"],
        IsArchived=c["is_archived"],
        IsTitleEditable=editable,
        IsDescriptionEditable=editable,
        BlobIDs=blob_ids or None,
        Blobs=[CaseBlob(ID=b, Url=u) for b, u in zip(blob_ids, c["blob_urls"], strict=True)] or None,
        RelatedItems=await related_items(ctx.conn, c["id"]) or None,
        ReportingTime=iso_ms(c["reporting_time"]),
        ClosingTime=iso_ms(c["closing_time"]),
        LastInteractionTime=iso_ms(c["last_interaction_time"]),
        CreationTime=iso_ms(c["creation_time"]),
        CreatedBy=user_ref(c["created_by"], c["created_by_first_name"], c["created_by_last_name"]),
        LastModificationTime=iso_ms(c["last_modification_time"]),
        LastModifiedBy=user_ref(c["last_modified_by"], c["modified_by_first_name"], c["modified_by_last_name"]),
        CustomFieldValuesWithOptions=(
            await case_custom_fields(ctx.conn, c["id"], ctx.caller.user_type) or None
            if c["has_custom_fields"]
            else None
        ),
    )


# --- UpdateCase -----------------------------------------------------------------------------------------


class UpdateCase(Message, kw_only=True):
    ID: Id
    Title: Title | msgspec.UnsetType = msgspec.UNSET
    Description: Description | msgspec.UnsetType = msgspec.UNSET
    TopicID: Id | msgspec.UnsetType = msgspec.UNSET
    CustomerID: Id | msgspec.UnsetType | None = msgspec.UNSET
    BackendID: BackendID | msgspec.UnsetType | None = msgspec.UNSET
    ExternalOrderIdentifier: ExternalOrderIdentifier | msgspec.UnsetType | None = msgspec.UNSET
    AssignedOrganizationUnitID: Id | msgspec.UnsetType | None = msgspec.UNSET
    OriginatingOrganizationUnitID: Id | msgspec.UnsetType | None = msgspec.UNSET
    CustomFields: CustomFieldValues | msgspec.UnsetType | None = msgspec.UNSET


UPDATE_CASE_FIELDS = {
    "Title": "title",
    "Description": "description",
    "TopicID": "topic_id",
    "CustomerID": "customer_id",
    "BackendID": "backend_id",
    "ExternalOrderIdentifier": "external_order_identifier",
    "AssignedOrganizationUnitID": "assigned_organization_unit_id",
    "OriginatingOrganizationUnitID": "originating_organization_unit_id",
}


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def update_case(ctx: Context, req: UpdateCase) -> EmptyResponse:
    case = await lock_staff_case(ctx.conn, ctx.caller, req.ID)
    new = merged(req, case, UPDATE_CASE_FIELDS)
    changed = {column: value for column, value in new.items() if value != case[column]}
    names = {}
    if "topic_id" in changed:
        topic = await ctx.conn.fetchrow(SQL["get_topic"], changed["topic_id"])
        if topic is None:
            raise CaseTopicNotFound()
        names["topic"] = topic["name"]
    if changed.get("customer_id") is not None and await find_user(ctx.conn, changed["customer_id"]) is None:
        raise UserNotFound()
    if "assigned_organization_unit_id" in changed:
        check_unit(ctx.caller, changed["assigned_organization_unit_id"])
    if "originating_organization_unit_id" in changed and case["originating_organization_unit_id"] is not None:
        raise CaseOriginatingOrganizationUnitCanOnlyBeSetOnce()
    lines = case_change_lines(case, changed, names)
    if lines:
        await ctx.conn.execute(SQL["update_case"], req.ID, *new.values())
        await record_case_change(ctx.conn, req.ID, ctx.caller.user_id, lines)
    if req.CustomFields:
        await apply_values(
            ctx.conn,
            req.ID,
            req.CustomFields,
            user_type=ctx.caller.user_type,
            author_id=ctx.caller.user_id,
            creating=False,
        )
    return EmptyResponse()


# --- UpdateCaseState ------------------------------------------------------------------------------------


class UpdateCaseState(Message, kw_only=True):
    ID: Id
    StatusID: Id | msgspec.UnsetType = msgspec.UNSET
    Priority: Priority | msgspec.UnsetType = msgspec.UNSET
    AssigneeID: Id | msgspec.UnsetType | None = msgspec.UNSET
    Solution: Description | msgspec.UnsetType | None = msgspec.UNSET


class UpdateCaseStateResponse(Message, kw_only=True):
    StatusAction: int


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def update_case_state(ctx: Context, req: UpdateCaseState) -> UpdateCaseStateResponse:
    changes = {
        column: value
        for column, value in (
            ("status_id", req.StatusID),
            ("priority", req.Priority),
            ("assignee_id", req.AssigneeID),
            ("solution", req.Solution),
        )
        if value is not msgspec.UNSET
    }
    action = await change_case_state(ctx.conn, ctx.caller, req.ID, changes)
    return UpdateCaseStateResponse(StatusAction=action)


# --- UpdateCaseSummary ----------------------------------------------------------------------------------


class UpdateCaseSummary(Message, kw_only=True):
    ID: Id
    Summary: Summary


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def update_case_summary(ctx: Context, req: UpdateCaseSummary) -> EmptyResponse:
    case = await lock_staff_case(ctx.conn, ctx.caller, req.ID)
    if req.Summary != case["summary"]:
        await ctx.conn.execute(SQL["update_summary"], req.ID, req.Summary, ctx.caller.user_id)
        await record_case_change(ctx.conn, req.ID, ctx.caller.user_id, ["Case summary updated"])
    return EmptyResponse()


# --- ArchiveCase ----------------------------------------------------------------------------------------


class ArchiveCase(Message, kw_only=True):
    ID: Id


@ops.operation(staff("Cases", Scope.DELETE), writes=True)
async def archive_case(ctx: Context, req: ArchiveCase) -> EmptyResponse:
    case = await lock_staff_case(ctx.conn, ctx.caller, req.ID, closed_ok=True)
    if not case["is_closed"]:
        raise CaseCanOnlyArchiveClosedCases()
    await ctx.conn.execute(SQL["archive_case"], req.ID)
    await record_case_change(ctx.conn, req.ID, ctx.caller.user_id, ["Case archived"])
    return EmptyResponse()
