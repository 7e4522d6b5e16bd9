"""Case events, EVA's `Cases` target of event exports. The database records them (schema.sql, the triggers of
`record_case_event`: the outbox half of the change seam, in every change's own transaction); this module names
them and holds what Python decides about them."""

from __future__ import annotations

import asyncpg

from evacase.db import load_queries

SQL = load_queries("events")

CASES_TARGET = 25  # EVA's EventExportTarget `Cases`
CASE_EVENT_TYPES = (
    "created",
    "updated",
    "archived",
    "interaction_created",
    "interaction_updated",
    "interaction_deleted",
)
INTERACTION_EVENT_TYPES = frozenset({"interaction_created", "interaction_updated", "interaction_deleted"})


async def disable_event_exports(conn: asyncpg.Connection) -> None:
    """Record the case events of the connection's current transaction without exporting them (the change feed
    still lists them)."""
    await conn.execute(SQL["disable_event_exports"])


async def outbox_lag(conn: asyncpg.Connection) -> float:
    """Seconds since the oldest event still waiting for a delivery was recorded; 0 when none waits."""
    lag: float = await conn.fetchval(SQL["outbox_lag"])
    return lag
