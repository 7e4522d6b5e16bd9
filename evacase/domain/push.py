"""PushCase's writes that do not depend on the wire: the case's identity and lock, its columns and ledger lines,
and the interactions and related items a push upserts. The request's items are read through Protocols, so the
services' wire Structs (or any object with the same attributes) can be passed as they are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

import asyncpg
import msgspec

from evacase.auth import Caller
from evacase.db import load_queries
from evacase.domain import locks
from evacase.domain.cases import visible_units
from evacase.domain.changes import case_change_lines, case_creation_lines, related_items_line
from evacase.errors import (
    CaseCaseIsArchived,
    CaseCaseWithBackendIDAlreadyExists,
    CaseInteractionTypeNotAllowed,
    CaseNotFound,
)
from evacase.messages import parse_timestamp

SQL = load_queries("push_case")

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
)
NEW_CASE: dict[str, Any] = dict.fromkeys(CASE_COLUMNS) | {"priority": 0, "is_warranty": False}


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


async def existing_case(
    conn: asyncpg.Connection, actor: Caller, case_id: int | None, system_id: str, backend_id: str, update: bool
) -> asyncpg.Record | None:
    """The case this push updates (locked), None for a new one; a 409 for a taken identity without Update."""
    if case_id is None:
        case_id = await conn.fetchval(SQL["case_by_identity"], system_id, backend_id)
        if case_id is None:
            return None
        if not update:
            raise CaseCaseWithBackendIDAlreadyExists()
    await locks.lock_case(conn, case_id)
    case = await conn.fetchrow(SQL["locked_case"], case_id, visible_units(actor))
    if case is None:
        raise CaseNotFound()
    if case["is_archived"]:
        raise CaseCaseIsArchived()
    return case


async def apply_interactions(
    conn: asyncpg.Connection,
    actor: Caller,
    case_id: int,
    interactions: Sequence[PushedInteractionLike],
    pushed_time: dt.datetime | msgspec.UnsetType | None,
) -> None:
    """Upsert by BackendID within the case (the last of duplicates wins); `Delete: true` removes one. A pushed
    LastInteractionTime (not UNSET) wins over the time the interactions give the case."""
    if not interactions:
        return
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
    gone = [i.BackendID for i in last.values() if i.Delete]
    kept = [i for i in last.values() if not i.Delete]
    if gone:
        await conn.execute(SQL["delete_interactions"], case_id, gone)
    if kept:
        await conn.execute(
            SQL["upsert_interactions"],
            case_id,
            [i.BackendID for i in kept],
            [i.Type for i in kept],
            [i.Text for i in kept],
            actor.user_id,
        )
    if pushed_time is not msgspec.UNSET:
        await conn.execute(SQL["set_last_interaction_time"], case_id, pushed_time)


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
            SQL["upsert_related_items"],
            case_id,
            [i.OrderLineID for i in kept],
            [i.ProductID for i in kept],
            [i.SerialNumber for i in kept],
            [i.IsWarranty for i in kept],
            [timestamp(i.WarrantyExpiration, "CaseRelatedItems.Items[].WarrantyExpiration") for i in kept],
            [i.WarrantyAdditionalInformation for i in kept],
            actor.user_id,
        )
    return lines
