"""Employee-side cases: CreateCase, UpdateCase, UpdateCaseState, UpdateCaseSummary, ArchiveCase (GetCaseByID:
case_view.py).

Employees and API users act within their functionalities (Cases:Create/View/Edit/Delete). A caller whose token
names organization units sees only cases assigned to none of them or to one of those; other cases are not
found. Every change writes ledger lines in the same transaction; closed and archived cases are read-only
(UpdateCaseState may reopen a closed one)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

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
    edit_case,
    set_summary,
)
from evacase.domain.cases import archive_case as domain_archive_case
from evacase.domain.changes import case_creation_lines
from evacase.domain.contacts import add_contacts, contacts_json
from evacase.domain.custom_field_changes import apply_values
from evacase.domain.custom_fields import CustomFieldValues
from evacase.errors import (
    CaseCaseTopicIsRequiredForCase,
    CaseTopicNotFound,
    UserNotFound,
)
from evacase.messages import EmptyResponse, Id, Message, sent, to_utc
from evacase.registry import OperationSet, staff
from evacase.services.wire import (
    Contacts,
    CustomerReference,
    ExternalOrderIdentifier,
    Origin,
    Priority,
    Reason,
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
    DueDate: dt.datetime | None = None  # evacase's own (seed 004); else the service level's resolution due time
    AutoAssign: bool = False  # evacase's own (seed 004's isAutoAssigned): an assignee by the assignment rules
    CustomerReference: CustomerReference | None = None  # evacase's own (seed 001, 002)
    Origin: Origin = "Api"  # evacase's own (seed 004): the channel the case came in by
    Contacts: Contacts | None = None  # evacase's own (seed 001): who is told about the case


class CreateCaseResponse(Message, kw_only=True):
    ID: int


@ops.operation(staff("Cases", Scope.CREATE), writes=True)
async def create_case(ctx: Context, req: CreateCase) -> CreateCaseResponse:
    if req.TopicID is None:
        raise CaseCaseTopicIsRequiredForCase()
    check_priority(req.Priority)
    check_unit(ctx.caller, req.AssignedOrganizationUnitID)
    contacts = contacts_json(req.Contacts, by_customer=False)
    assignee = await assignee_name(ctx.conn, req.AssigneeID) if req.AssigneeID is not None else None
    ledger = case_creation_lines("created", req.Priority, NEW_STATUS_NAME, assignee)
    row = await ctx.conn.fetchrow(
        *SQL.bound(
            "create_case",
            actor=ctx.caller.user_id,
            topic_id=req.TopicID,
            customer_id=req.CustomerID,
            title=req.Title,
            description=req.Description,
            priority=req.Priority,
            status_id=NEW_STATUS_ID,
            backend_id=req.BackendID,
            external_order_identifier=req.ExternalOrderIdentifier,
            assignee_id=req.AssigneeID,
            assigned_unit_id=req.AssignedOrganizationUnitID,
            originating_unit_id=req.OriginatingOrganizationUnitID,
            ledger_lines=ledger,
            due_date=to_ms(to_utc(req.DueDate, "DueDate")) if req.DueDate is not None else None,
            auto_assign=req.AutoAssign,
            customer_reference=req.CustomerReference,
            origin=req.Origin,
        )
    )
    if not row["topic_ok"]:
        raise CaseTopicNotFound()
    if not row["customer_ok"]:
        raise UserNotFound()
    await add_contacts(ctx.conn, row["case_id"], contacts, ctx.caller.user_id)
    await apply_values(
        ctx.conn,
        row["case_id"],
        req.CustomFields,
        user_type=ctx.caller.user_type,
        author_id=ctx.caller.user_id,
        creating=True,
    )
    return CreateCaseResponse(ID=row["case_id"])


def to_ms(value: dt.datetime) -> dt.datetime:
    """A time as the database keeps it (milliseconds), so an unchanged DueDate compares equal."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


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
    DueDate: dt.datetime | msgspec.UnsetType | None = msgspec.UNSET
    CustomerReference: CustomerReference | msgspec.UnsetType | None = msgspec.UNSET


UPDATE_CASE_FIELDS = {
    "Title": "title",
    "Description": "description",
    "TopicID": "topic_id",
    "CustomerID": "customer_id",
    "BackendID": "backend_id",
    "ExternalOrderIdentifier": "external_order_identifier",
    "AssignedOrganizationUnitID": "assigned_organization_unit_id",
    "OriginatingOrganizationUnitID": "originating_organization_unit_id",
    "DueDate": "due_date",
    "CustomerReference": "customer_reference",
}


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def update_case(ctx: Context, req: UpdateCase) -> EmptyResponse:
    changes = sent(req, UPDATE_CASE_FIELDS)
    if changes.get("due_date") is not None:
        changes["due_date"] = to_ms(to_utc(changes["due_date"], "DueDate"))
    await edit_case(ctx.conn, ctx.caller, req.ID, changes)
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
    # evacase's own (seed 001): why the status changes; into Cancelled it is kept as the cancellation reason
    Reason: Reason | None = None


class UpdateCaseStateResponse(Message, kw_only=True):
    StatusAction: int


UPDATE_STATE_FIELDS = {
    "StatusID": "status_id",
    "Priority": "priority",
    "AssigneeID": "assignee_id",
    "Solution": "solution",
}


@ops.operation(staff("Cases", Scope.EDIT), writes=True, one_statement=True)
async def update_case_state(ctx: Context, req: UpdateCaseState) -> UpdateCaseStateResponse:
    action = await change_case_state(ctx.conn, ctx.caller, req.ID, sent(req, UPDATE_STATE_FIELDS), req.Reason)
    return UpdateCaseStateResponse(StatusAction=action)


# --- UpdateCaseSummary ----------------------------------------------------------------------------------


class UpdateCaseSummary(Message, kw_only=True):
    ID: Id
    Summary: Summary


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def update_case_summary(ctx: Context, req: UpdateCaseSummary) -> EmptyResponse:
    await set_summary(ctx.conn, ctx.caller, req.ID, req.Summary)
    return EmptyResponse()


# --- ArchiveCase ----------------------------------------------------------------------------------------


class ArchiveCase(Message, kw_only=True):
    ID: Id


@ops.operation(staff("Cases", Scope.DELETE), writes=True)
async def archive_case(ctx: Context, req: ArchiveCase) -> EmptyResponse:
    await domain_archive_case(ctx.conn, ctx.caller, req.ID)
    return EmptyResponse()
