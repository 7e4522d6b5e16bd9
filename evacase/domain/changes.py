"""The one seam every change to a case goes through: `record_case_change` writes what changed as Ledger
interactions (Type 2) in the change's own transaction and marks the case modified (the event outbox will join
here), and `case_change_lines` is the one phrasing of a field change, for every service that edits a case."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import asyncpg

from evacase.db import load_queries
from evacase.messages import iso_ms

SQL = load_queries("changes")

PRIORITY_NAMES = {0: "Low", 1: "Medium", 2: "High", 9: "Critical"}


class InteractionType:
    COMMUNICATION = 0
    NOTE = 1
    LEDGER = 2
    EMAIL = 3
    HTTP_CALLBACK = 4


# What a customer may see of a case's interactions: never private notes (1) nor callbacks (4).
CUSTOMER_VISIBLE_TYPES = (InteractionType.COMMUNICATION, InteractionType.LEDGER, InteractionType.EMAIL)


def related_items_line(count: int, change: str) -> str:
    """`2 related items added to the case`, `1 related item removed from the case`."""
    return f"{count} related item{'s' if count > 1 else ''} {change} the case"


# The fields a ledger line names, in the order lines are written, with their phrasing: (new value, names) ->
# line. `names` carries the display names the caller resolved (topic, status, assignee).
def _updated_or_removed(what: str) -> Callable[[Any, Mapping[str, str]], str]:
    return lambda value, names: f"Case {what} updated" if value is not None else f"Case {what} removed"


PHRASES: dict[str, Callable[[Any, Mapping[str, str]], str]] = {
    "title": lambda value, names: f"Case title set to `{value}`",
    "description": lambda value, names: "Case description updated",
    "topic_id": lambda value, names: f"Case topic set to `{names['topic']}`",
    "customer_id": lambda value, names: "Case customer changed" if value is not None else "Case customer removed",
    "backend_id": lambda value, names: f"Case backend ID set to `{value}`" if value else "Case backend ID removed",
    "external_order_identifier": lambda value, names: "Case external order identifier updated",
    "status_id": lambda value, names: f"Case status set to `{names['status']}`",
    "priority": lambda value, names: f"Case priority set to `{PRIORITY_NAMES[value]}`",
    "assignee_id": lambda value, names: f"Case assigned to `{names['assignee']}`" if value else "Case unassigned",
    "summary": _updated_or_removed("summary"),
    "solution": _updated_or_removed("solution"),
    "is_warranty": lambda value, names: f"Case warranty set to `{value}`",
    "assigned_organization_unit_id": lambda value, names: (
        f"Case assigned to organization unit `{value}`" if value else "Case organization unit removed"
    ),
    "originating_organization_unit_id": lambda value, names: f"Case originating organization unit set to `{value}`",
    "order_id": lambda value, names: f"Case order set to `{value}`" if value else "Case order removed",
    "due_date": lambda value, names: (
        f"Case due date set to `{iso_ms(value)}`" if value is not None else "Case due date removed"
    ),
    "customer_reference": lambda value, names: (
        f"Case customer reference set to `{value}`" if value is not None else "Case customer reference removed"
    ),
    "origin": lambda value, names: f"Case origin set to `{value}`",
}


def case_creation_lines(how: str, priority: int, status: str, assignee: str | None = None) -> list[str]:
    """The ledger lines a new case starts with (`how`: created, pushed)."""
    lines = [f"Case {how} with priority `{PRIORITY_NAMES[priority]}`", f"Case status set to `{status}`"]
    if assignee is not None:
        lines.append(f"Case assigned to `{assignee}`")
    return lines


def case_change_lines(old: Mapping[str, Any], new: Mapping[str, Any], names: Mapping[str, str] = {}) -> list[str]:
    """The ledger lines of what changed from `old` to `new` (case columns; fields `new` leaves out did not
    change), in one order and one phrasing for UpdateCase, UpdateCaseState, CustomerUpdateCase and PushCase."""
    return [phrase(new[column], names) for column, phrase in PHRASES.items() if _changed(column, old, new)]


def _changed(column: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    if column not in new:
        return False
    if column == "backend_id" and "backend_system_id" in new:  # a pushed case's identity is the pair
        return (new["backend_system_id"], new["backend_id"]) != (old["backend_system_id"], old["backend_id"])
    return bool(new[column] != old[column])


async def record_case_change(conn: asyncpg.Connection, case_id: int, actor_id: int, lines: list[str]) -> None:
    """Record `lines` on the case's ledger and mark the case modified by `actor_id` (nothing if no lines)."""
    if lines:
        await conn.execute(SQL["add_ledger_lines"], case_id, actor_id, lines)


async def touch_case(conn: asyncpg.Connection, case_id: int, actor_id: int) -> None:
    """Mark the case modified by `actor_id` without a ledger line (a change customers must not read about)."""
    await conn.execute(SQL["touch_case"], case_id, actor_id)
