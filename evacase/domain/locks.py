"""Row locks taken before a change, in one order everywhere: the case first, then what hangs off it.

Every lock is its own statement and what the change needs is read *after* it, in a new statement: under READ
COMMITTED each statement sees what was committed when it started, so a read that follows the lock sees every
change committed by whoever held the lock before. Locking and reading in one statement is what made writes
racing a status change answer 404 for a case that exists, and let counts read under the lock be stale."""

from __future__ import annotations

import asyncpg

from evacase.db import load_queries

SQL = load_queries("locks")


async def lock_case(conn: asyncpg.Connection, case_id: int) -> None:
    """Lock case `case_id` for the rest of the transaction (nothing happens when it does not exist)."""
    await conn.execute(SQL["lock_case"], case_id)


async def lock_case_of_interaction(conn: asyncpg.Connection, interaction_id: int) -> None:
    """Lock the case of interaction `interaction_id` (before the interaction itself, as every writer does)."""
    await conn.execute(SQL["lock_case_of_interaction"], interaction_id)


async def lock_status(conn: asyncpg.Connection, status_id: int) -> tuple[asyncpg.Record | None, bool]:
    """Status `status_id` locked for a change, and whether cases use it (read once the lock is held)."""
    row = await conn.fetchrow(SQL["lock_status"], status_id)
    if row is None:
        return None, False
    return row, bool(await conn.fetchval(SQL["status_in_use"], status_id))
