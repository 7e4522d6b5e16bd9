"""Wire pieces more than one services module uses (the one module services modules may import)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal, TypeVar

import asyncpg
import msgspec

from evacase.auth import ANY_USER
from evacase.context import Context
from evacase.domain.contacts import MAX_CONTACTS_PER_CASE, list_contacts
from evacase.domain.deliveries import Outcome
from evacase.domain.event_exports import ExportSettings
from evacase.domain.service_levels import ORIGINS
from evacase.errors import ValidationFailed
from evacase.messages import Id, Message, UserName, full_name, iso_ms
from evacase.registry import Access

# Customer services: any authenticated caller, acting as the customer (EVA's own rule for Customer* services).
CUSTOMER_ACCESS = Access(user_types=ANY_USER)

Priority = Annotated[int, msgspec.Meta(ge=0, le=9)]
# Where a case came from (seed 004's origin channel): the customer services set Web, CreateCase Api, PushCase Push.
Origin = Literal["Web", "Email", "Voice", "WhatsApp", "Webchat", "Api", "Push"]
# The customer's own reference for a case (seed 001's customerReferenceId, seed 002's customer reference).
CustomerReference = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
TagText = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]  # normalised by domain/tags.py
# Why a case is cancelled or reopened (seed 001: 1 to 4,000 characters).
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=r"\S")]
ExternalOrderIdentifier = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
# Custom fields' definitions and options.
Label = Annotated[str, msgspec.Meta(max_length=1000)]
Length = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
UserTypes = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
Timestamp = Annotated[str, msgspec.Meta(max_length=64)]


class UserRef(UserName):
    ID: int | None = None


class CaseCustomerName(UserName):
    """A case's customer as ListCases shows it; GetCaseByID adds ID and BackendID."""

    EmailAddress: str | None = None


class CaseCustomer(CaseCustomerName, kw_only=True):
    ID: int
    BackendID: str | None = None
    PhoneNumber: str | None = None  # as pushed (PushCase)


CustomerView = TypeVar("CustomerView", bound=CaseCustomerName)


def case_customer(row: asyncpg.Record, cls: type[CustomerView], **extra: Any) -> CustomerView | None:
    """The customer columns (`customer_*`) of a case row as `cls`; None for a case without a customer."""
    if row["customer_id"] is None:
        return None
    first, last = row["customer_first_name"], row["customer_last_name"]
    return cls(
        FirstName=first, LastName=last, FullName=full_name(first, last), EmailAddress=row["customer_email"], **extra
    )


def user_ref(user_id: int | None, first: str | None, last: str | None) -> UserRef | None:
    if user_id is None:
        return None
    return UserRef(first, last, full_name(first, last), user_id)


class BlobCreated(Message, kw_only=True):
    """A stored blob (StoreBlob, CreateBlob, GetCaseReceipt): its GUID and its absolute Url."""

    Guid: uuid.UUID
    Url: str


class CaseServiceLevel(Message, kw_only=True):
    """evacase's own: the service-level policy applied and its due times (README, "Service levels")."""

    PolicyID: int | None = None
    PolicyName: str | None = None
    FirstResponseDueTime: str | None = None
    FirstResponseTime: str | None = None
    NextResponseDueTime: str | None = None
    ResolutionDueTime: str | None = None
    IsPaused: bool
    IsAtRisk: bool
    AtRiskTime: str | None = None
    IsFirstResponseBreached: bool
    FirstResponseBreachedTime: str | None = None
    IsNextResponseBreached: bool
    NextResponseBreachedTime: str | None = None
    IsResolutionBreached: bool
    ResolutionBreachedTime: str | None = None


def service_level(c: asyncpg.Record) -> CaseServiceLevel | None:
    """The case's service level as get_case reads it (None: no policy ever applied)."""
    if not c["has_service_level"]:
        return None
    return CaseServiceLevel(
        PolicyID=c["sla_policy_id"],
        PolicyName=c["sla_policy_name"],
        FirstResponseDueTime=iso_ms(c["first_response_due"]),
        FirstResponseTime=iso_ms(c["first_response_time"]),
        NextResponseDueTime=iso_ms(c["next_response_due"]),
        ResolutionDueTime=iso_ms(c["resolution_due"]),
        IsPaused=c["sla_paused"],
        IsAtRisk=c["sla_at_risk"],
        AtRiskTime=iso_ms(c["sla_warned_at"]) if c["sla_at_risk"] else None,
        IsFirstResponseBreached=c["first_response_breached_at"] is not None,
        FirstResponseBreachedTime=iso_ms(c["first_response_breached_at"]),
        IsNextResponseBreached=c["next_response_breached_at"] is not None,
        NextResponseBreachedTime=iso_ms(c["next_response_breached_at"]),
        IsResolutionBreached=c["resolution_breached_at"] is not None,
        ResolutionBreachedTime=iso_ms(c["resolution_breached_at"]),
    )


def export_settings(ctx: Context) -> ExportSettings:
    """The runtime's event-export settings (the event-export services run with them)."""
    assert ctx.exports is not None, "event-export services run with the runtime's export settings"
    return ctx.exports


class DeliveryTestResult(Message, kw_only=True):
    """What TestEndpointConfiguration and TestEventExportConfiguration answer: how the endpoint took a test event."""

    Success: bool
    StatusCode: int
    ResponseBody: str | None = None
    ErrorMessage: str | None = None


def delivery_test_result(outcome: Outcome) -> DeliveryTestResult:
    return DeliveryTestResult(
        Success=outcome.success, StatusCode=outcome.status_code, ResponseBody=outcome.body, ErrorMessage=outcome.error
    )


class CaseConditions(Message, kw_only=True, forbid_unknown_fields=True):
    """Which cases a service-level policy or an assignment rule applies to (absent: any; an empty list: none)."""

    Priorities: Annotated[list[Annotated[int, msgspec.Meta(ge=0, le=9)]], msgspec.Meta(max_length=4)] | None = None
    TopicIDs: Annotated[list[Id], msgspec.Meta(max_length=1000)] | None = None
    OrganizationUnitIDs: Annotated[list[Id], msgspec.Meta(max_length=1000)] | None = None
    Origins: Annotated[list[Annotated[str, msgspec.Meta(max_length=16)]], msgspec.Meta(max_length=7)] | None = None


def condition_columns(conditions: CaseConditions | None, code: str) -> dict[str, Any]:
    """The conditions as their columns, checked (400 `code` naming a priority or origin that does not exist)."""
    c = conditions or CaseConditions()
    if any(p not in (0, 1, 2, 9) for p in c.Priorities or ()):
        raise ValidationFailed("Priorities: 0 Low, 1 Medium, 2 High or 9 Critical", code)
    if any(o not in ORIGINS for o in c.Origins or ()):
        raise ValidationFailed(f"Origins: one of {', '.join(ORIGINS)}", code)
    return {
        "priorities": c.Priorities,
        "topic_ids": c.TopicIDs,
        "organization_unit_ids": c.OrganizationUnitIDs,
        "origins": c.Origins,
    }


def conditions_of(row: asyncpg.Record) -> CaseConditions:
    return CaseConditions(
        Priorities=row["priorities"],
        TopicIDs=row["topic_ids"],
        OrganizationUnitIDs=row["organization_unit_ids"],
        Origins=row["origins"],
    )


# --- contacts (domain/contacts.py) ----------------------------------------------------------------------

ContactName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class CaseContactData(Message, kw_only=True):
    """A contact to add: a person (name, e-mail address, phone number) or a known user (a watcher: UserID)."""

    Type: Literal["Notification", "Technical"] = "Notification"
    UserID: Id | None = None
    FirstName: ContactName | None = None
    LastName: ContactName | None = None
    EmailAddress: Annotated[str, msgspec.Meta(max_length=254)] | None = None
    PhoneNumber: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    IsStaffOnly: bool = False  # staff's: customers never see it (watchers always are)


Contacts = Annotated[list[CaseContactData], msgspec.Meta(max_length=MAX_CONTACTS_PER_CASE)]


class CaseContact(Message, kw_only=True):
    ID: int
    Type: str
    UserID: int | None = None
    FirstName: str | None = None
    LastName: str | None = None
    FullName: str | None = None
    EmailAddress: str | None = None
    PhoneNumber: str | None = None
    IsStaffOnly: bool | None = None  # shown to staff only


async def case_contacts(conn: asyncpg.Connection, case_id: int, *, for_customer: bool) -> list[CaseContact] | None:
    """A case's contacts as its views show them (a customer's view: not the staff-only ones); None for none."""
    return contact_views(await list_contacts(conn, case_id, for_customer=for_customer), for_customer=for_customer)


def contact_views(rows: list[asyncpg.Record], *, for_customer: bool) -> list[CaseContact] | None:
    return [
        CaseContact(
            ID=r["id"],
            Type=r["type"],
            UserID=r["user_id"],
            FirstName=r["first_name"],
            LastName=r["last_name"],
            FullName=full_name(r["first_name"], r["last_name"]),
            EmailAddress=r["email_address"],
            PhoneNumber=r["phone_number"],
            IsStaffOnly=None if for_customer else r["is_staff_only"],
        )
        for r in rows
    ] or None


# --- linked cases (domain/links.py) ---------------------------------------------------------------------


class LinkedCase(Message, kw_only=True):
    CaseID: int
    Type: str  # from the side of the case shown: Related, DuplicateOf, FollowUpOf, HasDuplicate, HasFollowUp
    Title: str | None = None
    StatusID: int
    StatusName: str | None = None
    IsClosed: bool


def linked_case_views(rows: list[asyncpg.Record]) -> list[LinkedCase] | None:
    return [
        LinkedCase(
            CaseID=r["id"],
            Type=r["type"],
            Title=r["title"],
            StatusID=r["status_id"],
            StatusName=r["status_name"],
            IsClosed=r["is_closed"],
        )
        for r in rows
    ] or None
