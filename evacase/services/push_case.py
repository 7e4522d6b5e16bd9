"""PushCase: backend systems (a call centre, an old helpdesk, a marketplace) import cases, exactly once in effect.

A case is identified by (BackendSystemID, BackendID): BackendSystemID from the body, else the
`EVA-IDs-BackendSystemID` header, else empty. A second push of an identity is a 409 unless it asks to update
(`Update: true`, or the case's `ID`). Pushes of one identity are serialized by an advisory lock and guaranteed
unique by `cases_backend_id_unique`. Everything a push writes (customer, addresses, topic, status, case,
interactions, related items, ledger lines) is one transaction.

An update replaces what the push carries and keeps what it leaves out; `null` clears where the contract allows
null. Each change writes its ledger line, as employee changes do."""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any

import msgspec

from evacase.auth import Scope
from evacase.context import Context
from evacase.db import load_queries
from evacase.domain.cases import check_priority
from evacase.domain.contacts import add_contacts, contacts_json
from evacase.domain.custom_field_changes import current_values, plan_changes, wanted_by_name, write_changes
from evacase.domain.customers import ADDRESS_KINDS, PushedCustomer
from evacase.domain.events import disable_event_exports
from evacase.domain.push import (
    CASE_COLUMNS,
    AssigneeRef,
    CasePush,
    apply_related_items,
    existing_case,
    insert_case,
    ledger_lines,
    merged_case,
    push_reads,
    pushed_interactions,
    timestamp,
    update_case,
)
from evacase.domain.push_lookups import TopicRef
from evacase.messages import Id, Message, sent
from evacase.registry import OperationSet, staff
from evacase.services.wire import Contacts, CustomerReference, Origin

ops = OperationSet()

SQL = load_queries("push")

Str20 = Annotated[str, msgspec.Meta(max_length=20)]
Str30 = Annotated[str, msgspec.Meta(max_length=30)]
Str50 = Annotated[str, msgspec.Meta(max_length=50)]
Str64 = Annotated[str, msgspec.Meta(max_length=64)]
Str100 = Annotated[str, msgspec.Meta(max_length=100)]
Str128 = Annotated[str, msgspec.Meta(max_length=128)]
Str256 = Annotated[str, msgspec.Meta(max_length=256)]
# EVA's contract says 2 characters (ISO codes), but the guide's own sample pushes "CUST123" and "": both are
# kept as given, up to 64 characters.
Code = Str64
Timestamp = Str64  # ISO 8601, parsed by parse_timestamp (a date, or a date-time with or without an offset)
Text = Annotated[str, msgspec.Meta(max_length=10_000)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=r"\S")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\S")]
Gender = Annotated[str, msgspec.Meta(pattern=r"^[MFO]?$")]
AccountType = Annotated[int, msgspec.Meta(ge=0, le=2)]
InteractionTypeValue = Annotated[int, msgspec.Meta(ge=0, le=4)]
MAX_ITEMS = 500


class PushedAddress(Message, kw_only=True):
    Address1: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    Address2: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    HouseNumber: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    FirstName: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    LastName: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    ZipCode: Str20 | msgspec.UnsetType | None = msgspec.UNSET
    City: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    Region: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    District: Str50 | msgspec.UnsetType | None = msgspec.UNSET
    Subdistrict: Str50 | msgspec.UnsetType | None = msgspec.UNSET
    EmailAddress: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    PhoneNumber: Str30 | msgspec.UnsetType | None = msgspec.UNSET
    State: Str64 | msgspec.UnsetType | None = msgspec.UNSET
    CountryID: Code


class PushedCompany(Message, kw_only=True):
    Name: Str256 | msgspec.UnsetType | None = msgspec.UNSET
    RegistrationNumber: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    VatNumber: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    FiscalID: Str100 | msgspec.UnsetType | None = msgspec.UNSET


class PushedCustomerData(Message, kw_only=True):
    BackendID: Str128 | msgspec.UnsetType | None = msgspec.UNSET
    EmailAddress: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    Gender: Gender | msgspec.UnsetType | None = msgspec.UNSET
    Initials: Str20 | msgspec.UnsetType | None = msgspec.UNSET
    FirstName: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    LastName: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    PhoneNumber: Str30 | msgspec.UnsetType | None = msgspec.UNSET
    DateOfBirth: Timestamp | msgspec.UnsetType | None = msgspec.UNSET
    PlaceOfBirth: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    BankAccount: Str50 | msgspec.UnsetType | None = msgspec.UNSET
    Nickname: Str50 | msgspec.UnsetType | None = msgspec.UNSET
    LanguageID: Code | msgspec.UnsetType | None = msgspec.UNSET
    CountryID: Code | msgspec.UnsetType | None = msgspec.UNSET
    FiscalID: Str20 | msgspec.UnsetType | None = msgspec.UNSET
    SocialSecurityNumber: Str128 | msgspec.UnsetType | None = msgspec.UNSET
    Title: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    Salutation: Str100 | msgspec.UnsetType | None = msgspec.UNSET
    AccountType: AccountType | msgspec.UnsetType | None = msgspec.UNSET
    BackendRelationID: Str50 | msgspec.UnsetType | None = msgspec.UNSET
    ShippingAddress: PushedAddress | msgspec.UnsetType | None = msgspec.UNSET
    BillingAddress: PushedAddress | msgspec.UnsetType | None = msgspec.UNSET
    Company: PushedCompany | msgspec.UnsetType | None = msgspec.UNSET


class PushedAssignee(Message, kw_only=True):
    ID: Id | None = None
    CustomID: Str256 | None = None
    EmailAddress: Str256 | None = None
    Remove: bool = False


class PushedCaseTopic(Message, kw_only=True):
    BackendID: Str256 | None = None  # EVA requires it; a topic given by Name may leave it out
    Name: Name | None = None
    ParentBackendID: Str256 | None = None


class PushedInteraction(Message, kw_only=True):
    BackendID: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    Delete: bool = False
    Text: Text | None = None
    Type: InteractionTypeValue = 0


class PushedRelatedItem(Message, kw_only=True):
    Delete: bool = False
    IsWarranty: bool = False
    OrderLineID: Id | None = None
    ProductID: Id | None = None
    SerialNumber: Str256 | None = None
    WarrantyAdditionalInformation: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    WarrantyExpiration: Timestamp | None = None


class PushedRelatedItems(Message, kw_only=True):
    Items: Annotated[list[PushedRelatedItem], msgspec.Meta(max_length=MAX_ITEMS)] | None = None
    OrderID: Id | None = None


class PushCase(Message, kw_only=True):
    BackendID: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    BackendSystemID: Str256 | None = None  # the guide's; else the EVA-IDs-BackendSystemID header
    ID: Id | None = None
    Update: bool = False
    Title: Title
    Description: Text
    Status: Name
    CaseTopic: PushedCaseTopic | None = None
    Topic: Name | None = None  # the guide's older form: a topic name
    Customer: PushedCustomerData | msgspec.UnsetType | None = msgspec.UNSET
    Assignee: PushedAssignee | msgspec.UnsetType | None = msgspec.UNSET
    AssignedOn: Timestamp | msgspec.UnsetType | None = msgspec.UNSET
    Priority: Annotated[int, msgspec.Meta(ge=0, le=9)] | msgspec.UnsetType = msgspec.UNSET
    Summary: Text | msgspec.UnsetType | None = msgspec.UNSET
    Solution: Text | msgspec.UnsetType | None = msgspec.UNSET
    IsWarranty: bool | msgspec.UnsetType = msgspec.UNSET
    ReportingTime: Timestamp | msgspec.UnsetType | None = msgspec.UNSET
    LastInteractionTime: Timestamp | msgspec.UnsetType | None = msgspec.UNSET
    ClosingTime: Timestamp | msgspec.UnsetType | None = msgspec.UNSET
    AssignedOrganizationUnitBackendID: Str256 | msgspec.UnsetType | None = msgspec.UNSET
    OriginatingOrganizationUnitBackendID: Str256 | msgspec.UnsetType | None = msgspec.UNSET
    Interactions: Annotated[list[PushedInteraction], msgspec.Meta(max_length=MAX_ITEMS)] | None = None
    CaseRelatedItems: PushedRelatedItems | msgspec.UnsetType | None = msgspec.UNSET
    CustomFields: dict[str, Any] | None = None
    DisableEventExports: bool = False  # the push's case events are recorded, not exported
    DueDate: Timestamp | msgspec.UnsetType | None = msgspec.UNSET  # evacase's own (seed 004)
    AutoAssign: bool = False  # evacase's own: a new case without an assignee is assigned by the assignment rules
    CustomerReference: CustomerReference | msgspec.UnsetType | None = msgspec.UNSET  # evacase's own (seed 002)
    Origin: Origin | msgspec.UnsetType = msgspec.UNSET  # evacase's own (seed 004); a new case's default: Push
    Contacts: Contacts | None = None  # evacase's own (seed 001): added to the case (again: updated)


class PushCaseResponse(Message, kw_only=True):
    ID: int


# --- what the push carries, as columns ------------------------------------------------------------------

_CAPITAL = re.compile(r"(?<=[a-z0-9])([A-Z])")


@functools.cache
def column(field: str) -> str:
    """`BackendRelationID` -> `backend_relation_id`."""
    return _CAPITAL.sub(r"_\1", field).lower()


def given(struct: msgspec.Struct, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields a push sent (null included), as column -> value."""
    return {column(k): v for k, v in msgspec.to_builtins(struct).items() if k not in skip}


def pushed_customer(data: PushedCustomerData) -> PushedCustomer:
    profile = given(data, skip=("BackendID", "ShippingAddress", "BillingAddress", "Company", "DateOfBirth"))
    born = timestamp(data.DateOfBirth, "Customer.DateOfBirth")
    if born is not msgspec.UNSET:
        profile["date_of_birth"] = born.isoformat() if born is not None else None
    if data.Company is None:
        profile.update(dict.fromkeys(("company_name", "company_registration_number", "company_vat_number"), None))
        profile["company_fiscal_id"] = None
    elif data.Company is not msgspec.UNSET:
        profile.update({f"company_{k}": v for k, v in given(data.Company).items()})
    addresses: dict[str, dict[str, Any] | None] = {}
    for kind, address in zip(ADDRESS_KINDS, (data.ShippingAddress, data.BillingAddress), strict=True):
        if address is not msgspec.UNSET:
            addresses[kind] = given(address) if address is not None else None
    return PushedCustomer(
        backend_id=data.BackendID or None,
        email=data.EmailAddress or None,
        profile=profile,
        addresses=addresses,
    )


# --- the case -------------------------------------------------------------------------------------------


def pushed_times(req: PushCase) -> dict[str, Any]:
    """The pushed times by column: a datetime, None (cleared) or UNSET (not pushed)."""
    return {
        name: timestamp(getattr(req, field), field)
        for field, name in (
            ("AssignedOn", "assigned_on"),
            ("ReportingTime", "reporting_time"),
            ("LastInteractionTime", "last_interaction_time"),
            ("ClosingTime", "closing_time"),
            ("DueDate", "due_date"),
        )
    }


def case_push(req: PushCase, system_id: str, times: dict[str, Any]) -> CasePush:
    """What the push says about the case itself, as the domain's plain values."""
    topic = req.CaseTopic
    assignee = req.Assignee
    related = req.CaseRelatedItems
    return CasePush(
        backend_system_id=system_id,
        backend_id=req.BackendID,
        title=req.Title,
        description=req.Description,
        status=req.Status,
        topic=TopicRef(topic.BackendID, topic.Name, topic.ParentBackendID) if topic is not None else None,
        topic_name=req.Topic,
        customer=pushed_customer(req.Customer) if isinstance(req.Customer, PushedCustomerData) else req.Customer,
        fields=sent(
            req,
            {
                field: column(field)
                for field in ("Priority", "Summary", "Solution", "IsWarranty", "CustomerReference", "Origin")
            },
        ),
        assignee=(
            AssigneeRef(assignee.ID, assignee.CustomID, assignee.EmailAddress, assignee.Remove)
            if isinstance(assignee, PushedAssignee)
            else assignee
        ),
        units={
            "assigned_organization_unit_id": req.AssignedOrganizationUnitBackendID,
            "originating_organization_unit_id": req.OriginatingOrganizationUnitBackendID,
        },
        times=times,
        order_id=(
            None
            if related is None
            else msgspec.UNSET
            if related is msgspec.UNSET or related.OrderID is None
            else related.OrderID
        ),
    )


@ops.operation(staff("PushCases", Scope.NONE), writes=True)
async def push_case(ctx: Context, req: PushCase) -> PushCaseResponse:
    conn = ctx.conn
    if req.Priority is not msgspec.UNSET:
        check_priority(req.Priority)
    system_id = req.BackendSystemID if req.BackendSystemID is not None else ctx.backend_system_id or ""
    push = case_push(req, system_id, pushed_times(req))
    gone, kept = pushed_interactions(req.Interactions or [])
    contacts = contacts_json(req.Contacts, by_customer=False)
    if req.DisableEventExports:
        await disable_event_exports(conn)
    reads = await push_reads(conn, ctx.caller, push, req.ID)  # the locks, and what is read under them
    catalogue = await ctx.catalogue.at(conn, reads["catalogue_version"])
    wanted = wanted_by_name(catalogue.fields, req.CustomFields or {})  # by name, checked by data type and options only
    case = existing_case(reads, req.ID, req.Update)
    old = {c: case[c] for c in CASE_COLUMNS} if case is not None else None
    new, names = await merged_case(conn, ctx.caller, push, old, catalogue.push_settings, reads)

    lines = ledger_lines(old, new, names)
    related = req.CaseRelatedItems
    items = related if related is None or related is msgspec.UNSET else (related.Items or [])
    pushed_time = push.times["last_interaction_time"]
    if old is None:  # nothing to delete or replace yet: the case, its interactions and ledger in one statement
        case_id = await insert_case(conn, ctx.caller, new, kept, pushed_time, lines, auto_assign=req.AutoAssign)
        await apply_related_items(conn, ctx.caller, case_id, items, updating=False)
    else:
        case_id = reads["locked"]["id"]
        lines += await apply_related_items(conn, ctx.caller, case_id, items, updating=True)
        await update_case(conn, ctx.caller, case_id, old, new, gone, kept, pushed_time, lines)
    await add_contacts(conn, case_id, contacts, ctx.caller.user_id)
    current = await current_values(conn, case_id) if case is not None and wanted else {}
    changes = plan_changes(catalogue.fields, wanted, current, creating=case is None, editor=None)  # no Required
    await write_changes(conn, case_id, changes, ctx.caller.user_id)
    return PushCaseResponse(ID=case_id)
