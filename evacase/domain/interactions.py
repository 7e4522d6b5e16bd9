"""Rules of interactions: who may change which, and the locked read every change starts from."""

from __future__ import annotations

import asyncpg

from evacase.auth import Caller
from evacase.db import load_queries
from evacase.domain import locks
from evacase.domain.cases import case_viewer
from evacase.domain.changes import CUSTOMER_VISIBLE_TYPES, InteractionType
from evacase.errors import CaseCaseAlreadyClosed, CaseCaseIsArchived, CaseInteractionNotFound, Forbidden

SQL = load_queries("locks")

# What an employee may create and change: Communication, Note, Email (ledger lines and callbacks are the system's).
WRITABLE_TYPES = (InteractionType.COMMUNICATION, InteractionType.NOTE, InteractionType.EMAIL)
VISIBLE_TO_CUSTOMERS = list(CUSTOMER_VISIBLE_TYPES)


async def lock_staff_interaction(
    conn: asyncpg.Connection, caller: Caller, interaction_id: int, denied_code: str
) -> asyncpg.Record:
    """The caller's own Communication, Note or Email on a case they may see and that is not archived, locked
    (after its case)."""
    await locks.lock_case_of_interaction(conn, interaction_id)
    row = await conn.fetchrow(SQL["staff_interaction"], interaction_id, case_viewer(caller))
    if row is None:
        raise CaseInteractionNotFound()
    if row["type"] not in WRITABLE_TYPES or row["created_by"] != caller.user_id:
        raise Forbidden("You can only change your own messages, notes and e-mails.", denied_code)
    if row["is_archived"]:
        raise CaseCaseIsArchived()
    return row


async def lock_customer_interaction(
    conn: asyncpg.Connection, caller: Caller, interaction_id: int, denied_code: str
) -> asyncpg.Record:
    """The caller's own Communication on an open case of theirs, locked (after its case)."""
    await locks.lock_case_of_interaction(conn, interaction_id)
    row = await conn.fetchrow(SQL["customer_interaction"], interaction_id, caller.user_id, VISIBLE_TO_CUSTOMERS)
    if row is None:
        raise CaseInteractionNotFound()
    if row["type"] != InteractionType.COMMUNICATION or row["created_by"] != caller.user_id:
        raise Forbidden("You can only change your own messages.", denied_code)
    if row["is_closed"]:
        raise CaseCaseAlreadyClosed()
    return row
