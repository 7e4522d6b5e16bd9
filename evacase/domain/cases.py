"""Rules of cases, whoever changes them: who sees which case, what a change may touch, and the locked read every
change starts from."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import asyncpg

from evacase.auth import Caller, UserType
from evacase.db import load_queries
from evacase.domain import locks
from evacase.domain.changes import PRIORITY_NAMES, case_change_lines, record_case_change
from evacase.domain.users import find_user
from evacase.errors import (
    CaseAssigneeIsInvalidUserTypeToAssignToCase,
    CaseCannotRevertCaseStatusToNewStatus,
    CaseCanOnlyArchiveClosedCases,
    CaseCaseAlreadyClosed,
    CaseCaseIsArchived,
    CaseCaseIsNotClosed,
    CaseInvalidPriority,
    CaseNotFound,
    CaseOrganizationUnitNotAllowed,
    CaseOriginatingOrganizationUnitCanOnlyBeSetOnce,
    CaseReopenWindowExpired,
    CaseStatusNotFound,
    CaseTopicNotFound,
    UserNotFound,
    ValidationFailed,
)
from evacase.messages import full_name, iso_ms

SQL = load_queries("locks")
SQL_CASES = load_queries("cases")
SQL_INTERACTIONS = load_queries("interactions")

NEW_STATUS_ID, NEW_STATUS_NAME = 1, "New"  # the system status every new case starts in (seeded by schema.sql)
IN_PROGRESS_STATUS_ID = 2  # the system status a reopened case returns to
CANCELLED_STATUS_ID = 4  # the system status of cancelled cases (the one whose Reason is kept)
DEFAULT_PRIORITY = 0  # Low


Viewer = tuple[list[int] | None, int, list[str] | None] | None


def case_viewer(caller: Caller) -> Viewer:
    """The caller as the queries' `case_viewer` (schema.sql, case_visible): the organization units whose cases it
    may see (plus cases without a unit; None: all) and its case scopes (None: all), or None for a caller who sees
    every case."""
    if caller.organization_units is None and caller.case_scopes is None:
        return None
    units = None if caller.organization_units is None else list(caller.organization_units)
    scopes = None if caller.case_scopes is None else list(caller.case_scopes)
    return (units, caller.user_id, scopes)


def check_priority(priority: int) -> None:
    if priority not in PRIORITY_NAMES:
        raise CaseInvalidPriority(data={"Field": "Priority"})


def check_unit(caller: Caller, unit_id: int | None) -> None:
    """A caller limited to some organization units cannot hand a case to another unit."""
    if unit_id is not None and caller.organization_units is not None and unit_id not in caller.organization_units:
        raise CaseOrganizationUnitNotAllowed()


async def assignee_name(conn: asyncpg.Connection, assignee_id: int) -> str:
    """The name a ledger line gives an assignee, after checking it is an Employee or System user."""
    user = await find_user(conn, assignee_id)
    if user is None:
        raise UserNotFound("The assignee does not exist.")
    return assignee_display_name(user["user_type"], user["first_name"], user["last_name"], assignee_id)


def assignee_display_name(user_type: int | None, first_name: str | None, last_name: str | None, user_id: int) -> str:
    """An assignee's name for a ledger line; refused unless an Employee or System user (type None: unknown)."""
    if user_type is None:
        raise UserNotFound("The assignee does not exist.")
    if not user_type & UserType.EMPLOYEE:  # Employee (1) and System (17) share the bit
        raise CaseAssigneeIsInvalidUserTypeToAssignToCase()
    return full_name(first_name, last_name) or str(user_id)


async def lock_staff_case(
    conn: asyncpg.Connection, caller: Caller, case_id: int, *, closed_ok: bool = False
) -> asyncpg.Record:
    """The case, locked, if the caller (an employee, or the system) may see it and may change it: never archived,
    closed only when `closed_ok` (UpdateCaseState reopens, ArchiveCase needs a closed case)."""
    await locks.lock_case(conn, case_id)
    case = await conn.fetchrow(SQL["staff_case"], case_id, case_viewer(caller))
    if case is None:
        raise CaseNotFound()
    if case["is_archived"]:
        raise CaseCaseIsArchived()
    if case["is_closed"] and not closed_ok:
        raise CaseCaseAlreadyClosed("The case is closed: reopen it with UpdateCaseState first.")
    return case


async def fetch_title_search(conn: asyncpg.Connection, query: str, *args: Any) -> list[asyncpg.Record]:
    """The rows of a list query filtered by a title "contains", planned for its pattern (the trigram index for a
    rare one, the list's own index for a common one), in a read-only transaction of its own (or the request's,
    when it has one: a caller's first request records the caller)."""
    transaction = contextlib.nullcontext() if conn.is_in_transaction() else conn.transaction(readonly=True)
    async with transaction:
        await conn.execute(SQL_CASES["title_search_plans"])
        rows: list[asyncpg.Record] = await conn.fetch(query, *args)
    return rows


async def lock_customer_case(
    conn: asyncpg.Connection, caller: Caller, case_id: int, *, closed_ok: bool = False
) -> asyncpg.Record:
    """The caller's own case, locked; refused when it does not exist (for them) or is closed (unless
    `closed_ok`: CustomerReopenCase)."""
    await locks.lock_case(conn, case_id)
    case = await conn.fetchrow(SQL["customer_case"], case_id, caller.user_id)
    if case is None:
        raise CaseNotFound()
    if case["is_closed"] and not closed_ok:
        raise CaseCaseAlreadyClosed()
    return case


async def change_case_state(
    conn: asyncpg.Connection,
    actor: Caller,
    case_id: int,
    changes: dict[str, Any],
    reason: str | None = None,
    *,
    access_checked: bool = False,
) -> int:
    """Move a case's state: any of `status_id`, `priority`, `assignee_id` (None unassigns) and `solution` (None
    clears), the others kept; a closed status sets ClosingTime, an open one clears it. Employees' UpdateCaseState,
    the customer's cancel and reopen (`access_checked`: the caller's own case) and background jobs (as the system
    actor) alike. A `reason` explains the status change in a ledger line; moving into Cancelled keeps it as the
    cancellation reason (any other status clears that). Returns the new status's Action.

    Outside a transaction it is optimistic: one read, the rules, and one statement that writes only if the case
    (its row version) and the target status are still what was read; when they are not, the same read, rules and
    write follow under the case's lock (and the target status's key-share lock) in a transaction."""
    if "priority" in changes:
        check_priority(changes["priority"])
    if reason is not None and "status_id" not in changes:
        raise ValidationFailed("Reason: it explains a status change, so it goes with a StatusID.")
    viewer = None if access_checked else case_viewer(actor)
    if not conn.is_in_transaction():
        state = await _read_state(conn, viewer, case_id, changes)
        written, action = await _write_state(conn, actor, state, changes, reason)
        if written:
            return action
    async with conn.transaction():
        await conn.execute(SQL["lock_case_and_status"], case_id, changes.get("status_id"))
        state = await _read_state(conn, viewer, case_id, changes)
        written, action = await _write_state(conn, actor, state, changes, reason)
        assert written, "the locked case and status cannot have changed"
        return action


async def _read_state(
    conn: asyncpg.Connection, viewer: Viewer, case_id: int, changes: dict[str, Any]
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        SQL_CASES["staff_state"], case_id, viewer, changes.get("status_id"), changes.get("assignee_id")
    )


async def _write_state(
    conn: asyncpg.Connection,
    actor: Caller,
    state: asyncpg.Record | None,
    changes: dict[str, Any],
    reason: str | None = None,
) -> tuple[bool, int]:
    """Apply the rules to what was read and write the change (with its ledger lines) if the case and the target
    status are unchanged since. Returns (whether nothing was in the way, the new status's Action)."""
    new, lines = state_change(state, changes, reason)
    assert state is not None
    action: int = state["new_action"]
    if not lines:
        return True, action
    written = await conn.fetchval(
        *SQL_CASES.bound(
            "update_state",
            case_id=state["id"],
            version=state["version"],
            status_id=new["status_id"],
            priority=new["priority"],
            assignee_id=new["assignee_id"],
            solution=new["solution"],
            is_closed=state["new_is_closed"],
            actor=actor.user_id,
            lines=lines,
            cancellation_reason=new["cancellation_reason"],
        )
    )
    return written is not None, action


STATE_COLUMNS = ("status_id", "priority", "assignee_id", "solution")


def state_change(
    state: asyncpg.Record | None, changes: dict[str, Any], reason: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The rules of a state change over what `staff_state` read: the merged state (its cancellation reason
    included) and its ledger lines, the `reason`'s last."""
    if state is None:
        raise CaseNotFound()
    if state["is_archived"]:
        raise CaseCaseIsArchived()
    new = {column: changes.get(column, state[column]) for column in STATE_COLUMNS}
    if state["new_status_name"] is None:
        raise CaseStatusNotFound()
    if new["status_id"] != state["status_id"] and new["status_id"] == NEW_STATUS_ID:
        raise CaseCannotRevertCaseStatusToNewStatus()
    names = {"status": state["new_status_name"]}
    if new["assignee_id"] is not None and new["assignee_id"] != state["assignee_id"]:
        names["assignee"] = assignee_display_name(
            state["assignee_type"], state["assignee_first_name"], state["assignee_last_name"], new["assignee_id"]
        )
    lines = case_change_lines(state, new, names)
    cancelled = new["status_id"] == CANCELLED_STATUS_ID
    if reason is not None:
        if new["status_id"] == state["status_id"]:
            raise ValidationFailed("Reason: it explains a status change, and the case is already in this status.")
        if cancelled:
            lines.append(f"Case cancelled: {reason}")
        elif state["is_closed"] and not state["new_is_closed"]:
            lines.append(f"Case reopened: {reason}")
        else:
            lines.append(f"Case status changed: {reason}")
    new["cancellation_reason"] = (reason or state["cancellation_reason"]) if cancelled else None
    return new, lines


# The columns UpdateCase edits (the update_case statement takes them by name).
EDITABLE = (
    "title",
    "description",
    "topic_id",
    "customer_id",
    "backend_id",
    "external_order_identifier",
    "assigned_organization_unit_id",
    "originating_organization_unit_id",
    "due_date",
    "customer_reference",
)


async def edit_case(conn: asyncpg.Connection, actor: Caller, case_id: int, changes: dict[str, Any]) -> None:
    """Change any of the EDITABLE columns (the others kept): a live topic, a known customer, a unit the actor may
    hand cases to, an originating unit set once. Each change writes its ledger line."""
    case = await lock_staff_case(conn, actor, case_id)
    new = {column: changes.get(column, case[column]) for column in EDITABLE}
    changed = {column: value for column, value in new.items() if value != case[column]}
    names = {}
    if "topic_id" in changed:
        topic = await conn.fetchrow(SQL_CASES["get_topic"], changed["topic_id"])
        if topic is None:
            raise CaseTopicNotFound()
        names["topic"] = topic["name"]
    if changed.get("customer_id") is not None and await find_user(conn, changed["customer_id"]) is None:
        raise UserNotFound()
    if "assigned_organization_unit_id" in changed:
        check_unit(actor, changed["assigned_organization_unit_id"])
    if "originating_organization_unit_id" in changed and case["originating_organization_unit_id"] is not None:
        raise CaseOriginatingOrganizationUnitCanOnlyBeSetOnce()
    lines = case_change_lines(case, changed, names)
    if lines:
        await conn.execute(*SQL_CASES.bound("update_case", case_id=case_id, **new))
        await record_case_change(conn, case_id, actor.user_id, lines)


async def set_summary(conn: asyncpg.Connection, actor: Caller, case_id: int, summary: str) -> None:
    case = await lock_staff_case(conn, actor, case_id)
    if summary != case["summary"]:
        await conn.execute(SQL_CASES["update_summary"], case_id, summary, actor.user_id)
        await record_case_change(conn, case_id, actor.user_id, ["Case summary updated"])


async def archive_case(conn: asyncpg.Connection, actor: Caller, case_id: int) -> None:
    """Archive a closed case: read-only for good, out of ListCases."""
    case = await lock_staff_case(conn, actor, case_id, closed_ok=True)
    if not case["is_closed"]:
        raise CaseCanOnlyArchiveClosedCases()
    await conn.execute(SQL_CASES["archive_case"], case_id)
    await record_case_change(conn, case_id, actor.user_id, ["Case archived"])


async def cancel_by_customer(conn: asyncpg.Connection, caller: Caller, case_id: int, reason: str) -> None:
    """The customer cancels an open case of theirs: their reason as a message of theirs (public), then the case
    into Cancelled with ClosingTime, the reason kept and its ledger line. The message goes first: a status whose
    customer replies reopen its cases must not reopen the cancelled one."""
    await lock_customer_case(conn, caller, case_id)
    await conn.execute(SQL_INTERACTIONS["customer_create_interaction"], case_id, reason, caller.user_id)
    await change_case_state(conn, caller, case_id, {"status_id": CANCELLED_STATUS_ID}, reason, access_checked=True)


async def reopen_by_customer(
    conn: asyncpg.Connection, caller: Caller, case_id: int, reason: str, window_minutes: int
) -> None:
    """The customer reopens a closed case of theirs within `window_minutes` after its closing time: back into
    InProgress (ClosingTime cleared), a ledger line with the reason, then the reason as their message. Later: a
    409 that points to a new case."""
    case = await lock_customer_case(conn, caller, case_id, closed_ok=True)
    if case["is_archived"]:
        raise CaseCaseIsArchived()
    if not case["is_closed"]:
        raise CaseCaseIsNotClosed()
    closed_at = case["closing_time"]
    if closed_at is not None and dt.datetime.now(dt.UTC) - closed_at > dt.timedelta(minutes=window_minutes):
        raise CaseReopenWindowExpired(
            f"The case was closed more than {window_minutes // 1440} days ago and can no longer be reopened: please "
            "create a new case (CustomerCreateCase).",
            data={"ClosingTime": iso_ms(closed_at), "ReopenWindowMinutes": window_minutes},
        )
    await change_case_state(conn, caller, case_id, {"status_id": IN_PROGRESS_STATUS_ID}, reason, access_checked=True)
    await conn.execute(SQL_INTERACTIONS["customer_create_interaction"], case_id, reason, caller.user_id)
