"""PushCase's writes that do not depend on the wire: the case's identity and lock, its columns and ledger lines,
and the interactions and related items a push upserts. The request's items are read through Protocols, so the
services' wire Structs (or any object with the same attributes) can be passed as they are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
import msgspec

from evacase.auth import Caller
from evacase.db import load_queries
from evacase.domain.cases import case_viewer, check_unit
from evacase.domain.changes import case_change_lines, case_creation_lines, related_items_line
from evacase.domain.customers import PushedCustomer, customer_keys, upsert_customer
from evacase.domain.push_lookups import TopicRef, resolve_assignee, resolve_status, resolve_topic, resolve_unit
from evacase.errors import (
    CaseCaseIsArchived,
    CaseCaseWithBackendIDAlreadyExists,
    CaseInteractionTypeNotAllowed,
    CaseNotFound,
)
from evacase.messages import full_name, parse_timestamp

SQL = load_queries("push")

PUSHABLE_INTERACTION_TYPES = (0, 1, 3, 4)  # Ledger (2) lines are evacase's own

CASE_COLUMNS = (
    "backend_system_id",
    "backend_id",
    "topic_id",
    "status_id",
    "customer_id",
    "title",
    "description",
    "summary",
    "solution",
    "priority",
    "is_warranty",
    "assignee_id",
    "assigned_on",
    "assigned_organization_unit_id",
    "originating_organization_unit_id",
    "reporting_time",
    "closing_time",
    "last_interaction_time",
    "order_id",
    "due_date",
    "customer_reference",
    "origin",
)
NEW_CASE: dict[str, Any] = dict.fromkeys(CASE_COLUMNS) | {"priority": 0, "is_warranty": False, "origin": "Push"}


class PushedInteractionLike(Protocol):
    BackendID: str
    Delete: bool
    Text: str | None
    Type: int


class PushedRelatedItemLike(Protocol):
    Delete: bool
    IsWarranty: bool
    OrderLineID: int | None
    ProductID: int | None
    SerialNumber: str | None
    WarrantyAdditionalInformation: str | None
    WarrantyExpiration: str | None


def timestamp(value: str | msgspec.UnsetType | None, field: str) -> dt.datetime | msgspec.UnsetType | None:
    """A pushed time: parsed, or None (cleared) or UNSET (not pushed) as given."""
    if value is msgspec.UNSET or value is None:
        return value
    return parse_timestamp(value, field)


def ledger_lines(old: dict[str, Any] | None, new: dict[str, Any], names: dict[str, str]) -> list[str]:
    """What changed, in the words of the employee services' ledger (a new case lists how it was created)."""
    if old is None:
        assignee = names["assignee"] if new["assignee_id"] is not None else None
        return case_creation_lines("pushed", new["priority"], names["status"], assignee)
    return case_change_lines(old, new, names)


async def push_reads(
    conn: asyncpg.Connection, actor: Caller, push: CasePush, known_case_id: int | None
) -> asyncpg.Record:
    """Take the push's locks and read what it needs under them, in one call (schema.sql, push_reads): the
    identity's case, the locked case, the catalogue version, and the lookups of a push's usual form."""
    customer = push.customer if isinstance(push.customer, PushedCustomer) else None
    row: asyncpg.Record = await conn.fetchrow(
        *SQL.bound(
            "push_reads",
            system_id=push.backend_system_id,
            backend_id=push.backend_id,
            customer_keys=customer_keys(push.customer),
            known_case_id=known_case_id,
            viewer=case_viewer(actor),
            topic_key=push.topic.BackendID or None if push.topic is not None else None,
            status_key=push.status,
            customer_key=customer.backend_id if customer is not None else None,
        )
    )
    return row


def existing_case(reads: asyncpg.Record, case_id: int | None, update: bool) -> asyncpg.Record | None:
    """The case this push updates (`case_id`, else the identity's case; locked by push_reads), None for a new
    one; a 409 for a taken identity without Update."""
    if case_id is None:
        if reads["identity_case_id"] is None:
            return None
        if not update:
            raise CaseCaseWithBackendIDAlreadyExists()
    case: asyncpg.Record | None = reads["locked"]
    if case is None or case["id"] is None or not reads["visible"]:
        raise CaseNotFound()
    if case["is_archived"]:
        raise CaseCaseIsArchived()
    return case


def pushed_interactions(
    interactions: Sequence[PushedInteractionLike],
) -> tuple[list[str], list[PushedInteractionLike]]:
    """The BackendIDs a push deletes and the interactions it upserts (the last of duplicates wins)."""
    last: dict[str, PushedInteractionLike] = {}
    for interaction in interactions:
        if not interaction.Delete and interaction.Type not in PUSHABLE_INTERACTION_TYPES:
            raise CaseInteractionTypeNotAllowed(
                "Interactions[].Type must be 0 (Communication), 1 (Note), 3 (Email) or 4 (HttpCallback): Ledger "
                "lines are written by evacase.",
                data={"Field": "Interactions[].Type"},
            )
        last.pop(interaction.BackendID, None)
        last[interaction.BackendID] = interaction
    return [i.BackendID for i in last.values() if i.Delete], [i for i in last.values() if not i.Delete]


async def insert_case(
    conn: asyncpg.Connection,
    actor: Caller,
    new: dict[str, Any],
    interactions: list[PushedInteractionLike],
    pushed_time: dt.datetime | msgspec.UnsetType | None,
    lines: list[str],
    auto_assign: bool = False,
) -> int:
    """A new pushed case with its interactions and ledger lines, in one statement; its last interaction time is
    the pushed one (not UNSET), else the interactions'; `auto_assign`: without an assignee, the assignment rules
    pick one (in the same statement, cases_auto_assign)."""
    case_id: int = await conn.fetchval(
        *SQL.bound(
            "insert_case",
            **new,
            actor=actor.user_id,
            backend_ids=[i.BackendID for i in interactions],
            types=[i.Type for i in interactions],
            texts=[i.Text for i in interactions],
            interactions_time=pushed_time is msgspec.UNSET and bool(interactions),
            lines=lines,
            auto_assign=auto_assign,
        )
    )
    return case_id


async def update_case(
    conn: asyncpg.Connection,
    actor: Caller,
    case_id: int,
    old: dict[str, Any],
    new: dict[str, Any],
    gone: list[str],
    kept: list[PushedInteractionLike],
    pushed_time: dt.datetime | msgspec.UnsetType | None,
    lines: list[str],
) -> None:
    """Update an existing case: its columns, its interactions (`kept` upserted by BackendID within the case,
    `gone` deleted) and its ledger lines; the case, upserts and ledger in one statement. A pushed
    LastInteractionTime (not UNSET) wins over the time the interactions give the case."""
    if gone:
        await conn.execute(SQL["delete_interactions"], case_id, gone)
    await conn.execute(
        *SQL.bound(
            "update_case",
            **new,
            actor=actor.user_id,
            case_id=case_id,
            backend_ids=[i.BackendID for i in kept],
            types=[i.Type for i in kept],
            texts=[i.Text for i in kept],
            time_pushed=pushed_time is not msgspec.UNSET,
            lines=lines,
            changed=new != old,
        )
    )


async def apply_related_items(
    conn: asyncpg.Connection,
    actor: Caller,
    case_id: int,
    items: Sequence[PushedRelatedItemLike] | msgspec.UnsetType | None,
    *,
    updating: bool,
) -> list[str]:
    """Related items, each identified by (OrderLineID, ProductID, SerialNumber) within the case; `None` removes
    them all. The ledger lines."""
    if items is None:
        removed = await conn.fetch(SQL["clear_related_items"], case_id) if updating else []
        return [related_items_line(len(removed), "removed from")] if removed else []
    if items is msgspec.UNSET or not items:
        return []
    lines = []
    gone = [i for i in items if i.Delete]
    kept = [i for i in items if not i.Delete]
    if gone:
        removed = await conn.fetch(
            SQL["delete_related_items"],
            case_id,
            [i.OrderLineID for i in gone],
            [i.ProductID for i in gone],
            [i.SerialNumber for i in gone],
        )
        if removed:
            lines.append(related_items_line(len(removed), "removed from"))
    if kept:
        await conn.execute(
            *SQL.bound(
                "upsert_related_items",
                case_id=case_id,
                order_line_ids=[i.OrderLineID for i in kept],
                product_ids=[i.ProductID for i in kept],
                serial_numbers=[i.SerialNumber for i in kept],
                is_warranty=[i.IsWarranty for i in kept],
                warranty_expirations=[
                    timestamp(i.WarrantyExpiration, "CaseRelatedItems.Items[].WarrantyExpiration") for i in kept
                ],
                infos=[i.WarrantyAdditionalInformation for i in kept],
                actor=actor.user_id,
            )
        )
    return lines


@dataclass(frozen=True)
class AssigneeRef:
    """Who a push assigns the case to: by ID, else CustomID, else e-mail address; `remove` unassigns."""

    user_id: int | None = None
    custom_id: str | None = None
    email: str | None = None
    remove: bool = False


Unset = msgspec.UnsetType


@dataclass(frozen=True)
class CasePush:
    """What a push says about the case itself, in plain values; UNSET: not pushed (kept), None: cleared."""

    backend_system_id: str
    backend_id: str
    title: str
    description: str
    status: str
    topic: TopicRef | None
    topic_name: str | None  # the guide's older `Topic`
    customer: PushedCustomer | Unset | None
    fields: dict[str, Any]  # priority, summary, solution, is_warranty, customer_reference, origin as pushed
    assignee: AssigneeRef | Unset | None
    units: dict[str, str | Unset | None]  # column -> the pushed unit's BackendID
    # assigned_on, reporting_time, last_interaction_time, closing_time, due_date
    times: dict[str, dt.datetime | Unset | None]
    order_id: int | Unset | None


async def merged_case(
    conn: asyncpg.Connection,
    actor: Caller,
    push: CasePush,
    old: dict[str, Any] | None,
    settings: dict[str, bool],
    reads: asyncpg.Record,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The case's columns after the push (what it carries over what the case had), and the names its ledger lines
    need (topic, status, assignee); `settings`: the push settings, `reads`: what push_reads looked up."""
    new = dict(old if old is not None else NEW_CASE)
    before = old or NEW_CASE
    names: dict[str, str] = {}
    new["backend_system_id"] = push.backend_system_id or None
    new["backend_id"] = push.backend_id
    new["title"], new["description"] = push.title, push.description

    by_backend_id = (reads["topic_id"], reads["topic_path"]) if reads["topic_id"] is not None else None
    new["topic_id"], path = await resolve_topic(
        conn, push.topic, push.topic_name, settings["PushCases:AutoCreateTopic"], by_backend_id
    )
    if new["topic_id"] != before["topic_id"]:
        names["topic"] = path
    found = (reads["status_id"], reads["status_name"], reads["status_is_closed"])
    status = await resolve_status(
        conn, push.status, settings["PushCases:AutoCreateStatus"], found if found[0] is not None else None
    )
    new["status_id"], names["status"] = status[0], status[1]

    if push.customer is None:
        new["customer_id"] = None
    elif push.customer is not msgspec.UNSET:
        by_key = (
            (reads["customer_id"], reads["customer_is_pushed"], reads["customer_backend_id"])
            if reads["customer_id"] is not None
            else None
        )
        new["customer_id"] = await upsert_customer(
            conn,
            push.customer,
            new["customer_id"],
            trust_unverified_email=settings["PushCases:MatchUnverifiedEmail"],
            by_backend_id=by_key,
            stored_profile=reads["customer_profile"],
        )
    new.update(push.fields)

    times = push.times
    if push.assignee is not msgspec.UNSET:
        assignee = None
        if push.assignee is not None and not push.assignee.remove:
            ref = push.assignee
            assignee = await resolve_assignee(conn, ref.user_id, ref.custom_id, ref.email)
        if assignee is None:
            new["assignee_id"], new["assigned_on"] = None, None
        else:
            names["assignee"] = full_name(assignee["first_name"], assignee["last_name"]) or str(assignee["id"])
            if assignee["id"] != new["assignee_id"]:
                new["assignee_id"], new["assigned_on"] = assignee["id"], dt.datetime.now(dt.UTC)
    if new["assignee_id"] is not None and times["assigned_on"] not in (msgspec.UNSET, None):
        new["assigned_on"] = times["assigned_on"]

    for name, backend_id in push.units.items():
        unit = await resolve_unit(conn, backend_id, UNIT_FIELDS[name])
        if unit is not msgspec.UNSET:
            new[name] = unit
    if new["assigned_organization_unit_id"] != before["assigned_organization_unit_id"]:
        check_unit(actor, new["assigned_organization_unit_id"])

    if times["reporting_time"] not in (msgspec.UNSET, None):
        new["reporting_time"] = times["reporting_time"]
    if times["last_interaction_time"] is not msgspec.UNSET:
        new["last_interaction_time"] = times["last_interaction_time"]
    if not status[2]:  # a pushed ClosingTime counts only for a closed status
        new["closing_time"] = None
    elif times["closing_time"] not in (msgspec.UNSET, None):
        new["closing_time"] = times["closing_time"]
    elif new["closing_time"] is None:
        new["closing_time"] = dt.datetime.now(dt.UTC)

    if push.order_id is not msgspec.UNSET:
        new["order_id"] = push.order_id
    if times["due_date"] is not msgspec.UNSET:
        new["due_date"] = times["due_date"]
    return new, names


# The push's field naming each unit column (for its error messages).
UNIT_FIELDS = {
    "assigned_organization_unit_id": "AssignedOrganizationUnitBackendID",
    "originating_organization_unit_id": "OriginatingOrganizationUnitBackendID",
}
