"""The service-level scheduler's periodic work (README, "Service levels"): flag the warnings and breaches that
came due (each once: refresh_case_service_level records when it flagged them and looks only at what is still
pending), recompute every open case after a policy or calendar changed, close the cases a status closes
automatically after some hours, and assign the cases that found nobody available at creation (as evacase, with
their ledger lines and events). Each batch is one transaction; the
jobs run in one process at a time (jobs/periodic.py) and are safe to interrupt and to run again."""

from __future__ import annotations

import asyncpg

from evacase.auth import SYSTEM_USER_ID
from evacase.db import load_queries
from evacase.jobs.periodic import PeriodicJob

SQL = load_queries("service_levels")
SQL_ASSIGNMENT = load_queries("assignment")
BATCH = 500


async def _check_due(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval(SQL["check_due"], BATCH))


async def _auto_close(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval(*SQL.bound("auto_close_batch", limit=BATCH, actor=SYSTEM_USER_ID)))


async def _assign_waiting(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval(*SQL_ASSIGNMENT.bound("assign_waiting", limit=BATCH, actor=SYSTEM_USER_ID)))


async def _rebuild(conn: asyncpg.Connection) -> int:
    done = await conn.fetchval(SQL["rebuild_batch"], BATCH)
    return int(done or 0)


def service_level_jobs(interval: float) -> list[PeriodicJob]:
    return [
        PeriodicJob(name="check_service_levels", interval=interval, batch=_check_due, batch_size=BATCH),
        PeriodicJob(name="rebuild_service_levels", interval=interval, batch=_rebuild, batch_size=BATCH),
        PeriodicJob(name="auto_close_cases", interval=interval, batch=_auto_close, batch_size=BATCH),
        PeriodicJob(name="assign_waiting_cases", interval=interval, batch=_assign_waiting, batch_size=BATCH),
    ]
