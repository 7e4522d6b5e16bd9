"""GetCaseByID: the employee view of a case (topic chain, customer, assignee, units, summary, blobs, related items,
custom fields), for callers who may see it (Cases:View; organization units as for every employee service)."""

from __future__ import annotations

import asyncpg

from evacase.auth import Scope
from evacase.context import Context
from evacase.db import load_queries
from evacase.domain.cases import (
    case_viewer,
)
from evacase.domain.custom_field_view import CaseCustomFieldValue, case_custom_fields
from evacase.domain.links import linked_cases
from evacase.errors import (
    CaseNotFound,
)
from evacase.messages import Id, Message, full_name, iso_ms
from evacase.registry import OperationSet, staff
from evacase.services.wire import (
    CaseContact,
    CaseCustomer,
    CaseServiceLevel,
    LinkedCase,
    UserRef,
    case_contacts,
    case_customer,
    linked_case_views,
    service_level,
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
    Name: str | None = None  # evacase's additions for blobs it stores: the file's name, type and size
    MimeType: str | None = None
    Size: int | None = None


class CaseRelatedItemDto(Message, kw_only=True):
    ID: int
    OrderLineID: int | None = None
    ProductID: int | None = None
    SerialNumber: str | None = None
    IsWarranty: bool
    WarrantyExpiration: str | None = None
    WarrantyAdditionalInformation: str | None = None


def related_items(items: list[asyncpg.Record]) -> list[CaseRelatedItemDto]:
    """What GetCaseByID shows of a case's related items (get_case's rows: id, order line, product, serial
    number, warranty, its expiration and information)."""
    return [
        CaseRelatedItemDto(
            ID=item_id,
            OrderLineID=order_line_id,
            ProductID=product_id,
            SerialNumber=serial_number,
            IsWarranty=is_warranty,
            WarrantyExpiration=iso_ms(expiration),
            WarrantyAdditionalInformation=information,
        )
        for item_id, order_line_id, product_id, serial_number, is_warranty, expiration, information in items
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
    DueDate: str | None = None
    ServiceLevel: CaseServiceLevel | None = None
    # evacase's own (issue 17, the seed systems' workflows)
    CustomerReference: str | None = None
    Origin: str
    CancellationReason: str | None = None
    Tags: list[str] | None = None
    Contacts: list[CaseContact] | None = None
    LinkedCases: list[LinkedCase] | None = None


def topic_data(chain: list[asyncpg.Record]) -> CaseTopicData | None:
    """The topic and, nested, its parents (get_case's chain, topic first: id, name, backend ID, deleted). Each
    display name is the names from the root down to that topic, as the database's topic_path writes them (built
    here from the chain: asking PostgreSQL for each ancestor's path walks the tree again per ancestor)."""
    data = None
    path: str | None = None
    for topic_id, name, backend_id, is_deleted in reversed(chain):
        path = name if path is None else f"{path} / {name}"
        data = CaseTopicData(
            TopicID=topic_id,
            TopicName=name,
            TopicBackendID=backend_id,
            TopicDisplayName=path,
            IsDeleted=is_deleted,
            CaseTopic=data,
        )
    return data


@ops.operation(staff("Cases", Scope.VIEW), writes=False)
async def get_case_by_id(ctx: Context, req: GetCaseByID) -> GetCaseByIDResponse:
    viewer = case_viewer(ctx.caller)
    c = await ctx.conn.fetchrow(SQL["get_case"], req.ID, viewer, ctx.caller.user_type)
    if c is None:
        raise CaseNotFound()
    customer = case_customer(
        c, CaseCustomer, ID=c["customer_id"], BackendID=c["customer_backend_id"], PhoneNumber=c["customer_phone"]
    )
    editable = not c["is_closed"] and not c["is_archived"]
    blobs = [
        CaseBlob(ID=str(guid), Url=ctx.blob_url(guid) if kind is not None else url, Name=name, MimeType=kind, Size=size)
        for guid, url, name, kind, size in c["blobs"]
    ]
    return GetCaseByIDResponse(
        ID=c["id"],
        Title=c["title"],
        Description=c["description"],
        Priority=c["priority"],
        StatusID=c["status_id"],
        StatusName=c["status_name"],
        StatusColor=c["status_color"],
        CaseTopic=topic_data(c["topic_chain"]),
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
        BlobIDs=[b.ID for b in blobs] or None,
        Blobs=blobs or None,
        RelatedItems=related_items(c["related_items"]) or None,
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
        DueDate=iso_ms(c["due_date"]),
        ServiceLevel=service_level(c),
        CustomerReference=c["customer_reference"],
        Origin=c["origin"],
        CancellationReason=c["cancellation_reason"],
        Tags=c["tags"] or None,
        Contacts=await case_contacts(ctx.conn, c["id"], for_customer=False) if c["has_contacts"] else None,
        LinkedCases=linked_case_views(await linked_cases(ctx.conn, c["id"], viewer)) if c["has_links"] else None,
    )
