"""Links between cases (seed 003's relation to the case a case came from): Related, DuplicateOf, FollowUpOf. One
link per pair of cases, whichever way round; linking a pair again sets its direction and type. Links are staff's:
both cases must be visible to whoever links or unlinks them, a case's view lists only the linked cases its reader
may see (nothing at all of the others), and a link writes no ledger line (customers read ledger lines)."""

from __future__ import annotations

import asyncpg

from evacase.auth import Caller
from evacase.db import load_queries
from evacase.domain import locks
from evacase.domain.cases import Viewer, case_viewer, change_case_state
from evacase.domain.changes import touch_case
from evacase.errors import CaseCaseIsArchived, CaseLinkNotFound, CaseNotFound, CaseStatusNotFound, ValidationFailed

SQL = load_queries("links")
SQL_LOCKS = load_queries("locks")

LINK_TYPES = ("Related", "DuplicateOf", "FollowUpOf")
DUPLICATE_REASON = "Duplicate of another case"


async def _lock_pair(conn: asyncpg.Connection, actor: Caller, case_id: int, linked_case_id: int) -> asyncpg.Record:
    """Both cases locked, lower ID first (two links of one pair made at once cannot deadlock), each visible to
    the actor; the first returned (never archived: its links change; the other may be)."""
    if case_id == linked_case_id:
        raise ValidationFailed("LinkedCaseID: a case cannot be linked to itself.", data={"Field": "LinkedCaseID"})
    for target in sorted((case_id, linked_case_id)):
        await locks.lock_case(conn, target)
    viewer = case_viewer(actor)
    case = await conn.fetchrow(SQL_LOCKS["staff_case"], case_id, viewer)
    linked = await conn.fetchrow(SQL_LOCKS["staff_case"], linked_case_id, viewer)
    if case is None or linked is None:
        raise CaseNotFound()
    if case["is_archived"]:
        raise CaseCaseIsArchived()
    return case


async def link_cases(
    conn: asyncpg.Connection,
    actor: Caller,
    case_id: int,
    linked_case_id: int,
    link_type: str,
    close_status_id: int | None = None,
) -> None:
    """Link `case_id` to `linked_case_id` as `link_type`; a duplicate may be closed in the same step, into
    `close_status_id` (a closing status; into Cancelled its reason is "Duplicate of another case")."""
    if close_status_id is not None and link_type != "DuplicateOf":
        raise ValidationFailed("CloseWithStatusID: only a duplicate (Type DuplicateOf) is closed by its link.")
    await _lock_pair(conn, actor, case_id, linked_case_id)
    await conn.execute(SQL["link_cases"], case_id, linked_case_id, link_type, actor.user_id)
    await touch_case(conn, linked_case_id, actor.user_id)
    if close_status_id is None:
        await touch_case(conn, case_id, actor.user_id)
        return
    closes = await conn.fetchval(SQL["status_closes"], close_status_id)
    if closes is None:
        raise CaseStatusNotFound()
    if not closes:
        raise ValidationFailed("CloseWithStatusID: the status must close its cases.")
    await change_case_state(conn, actor, case_id, {"status_id": close_status_id}, DUPLICATE_REASON)


async def unlink_cases(conn: asyncpg.Connection, actor: Caller, case_id: int, linked_case_id: int) -> None:
    await _lock_pair(conn, actor, case_id, linked_case_id)
    if not await conn.fetchval(SQL["unlink_cases"], case_id, linked_case_id):
        raise CaseLinkNotFound()
    await touch_case(conn, case_id, actor.user_id)
    await touch_case(conn, linked_case_id, actor.user_id)


async def linked_cases(
    conn: asyncpg.Connection, case_id: int, viewer: Viewer, customer_id: int | None = None
) -> list[asyncpg.Record]:
    """The cases linked to `case_id` that `viewer` may see (a customer's view: `customer_id`'s own only)."""
    rows: list[asyncpg.Record] = await conn.fetch(SQL["linked_cases"], case_id, viewer, customer_id)
    return rows
