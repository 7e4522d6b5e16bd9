"""GetCaseByID: the employee view of a case (topic chain, customer, assignee, units, summary, blobs, related items,
custom fields), for callers who may see it (Cases:View; organization units as for every employee service)."""

from __future__ import annotations

import asyncpg

from evacase.auth import Scope
from evacase.context import Context
from evacase.db import load_queries
from evacase.domain.cases import (
    visible_units,
)
from evacase.domain.custom_field_view import CaseCustomFieldValue, case_custom_fields
from evacase.errors import (
    CaseNotFound,
)
from evacase.messages import Id, Message, full_name, iso_ms
from evacase.registry import OperationSet, staff
from evacase.services.wire import (
    CaseCustomer,
    UserRef,
    case_customer,
    user_ref,
)

ops = OperationSet()

SQL = load_queries("cases")


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
