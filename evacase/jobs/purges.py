"""Purges of data whose time is up."""

from __future__ import annotations

import asyncpg

from evacase.idempotency import purge_expired
from evacase.jobs.periodic import PeriodicJob

BATCH = 1000


async def _purge_idempotency_keys(conn: asyncpg.Connection) -> int:
    return await purge_expired(conn, BATCH)


PURGE_IDEMPOTENCY_KEYS = PeriodicJob(
    name="purge_idempotency_keys", interval=15 * 60, batch=_purge_idempotency_keys, batch_size=BATCH
)
JOBS = [PURGE_IDEMPOTENCY_KEYS]
