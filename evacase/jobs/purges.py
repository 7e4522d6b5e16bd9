"""Purges of data whose time is up."""

from __future__ import annotations

import asyncpg

from evacase.db import load_queries
from evacase.domain.blob_stores import BlobStore, PostgresStore
from evacase.domain.stored_blobs import finish_deletion
from evacase.idempotency import purge_expired
from evacase.jobs.periodic import PeriodicJob
from evacase.jobs.service_levels import service_level_jobs

BATCH = 1000
SQL = load_queries("blobs")
EXPORTS_SQL = load_queries("event_exports")


async def _purge_idempotency_keys(conn: asyncpg.Connection) -> int:
    return await purge_expired(conn, BATCH)


PURGE_IDEMPOTENCY_KEYS = PeriodicJob(
    name="purge_idempotency_keys", interval=15 * 60, batch=_purge_idempotency_keys, batch_size=BATCH
)
JOBS = [PURGE_IDEMPOTENCY_KEYS]

BLOB_BATCH = 100


def blob_purge(store: BlobStore, interval: float) -> PeriodicJob:
    """Blobs past their expiry that nothing holds go (content first, then the row, for an outside store), and
    so do blobs a DeleteBlob or an earlier run left marked deleted (a crash in between): no content is left
    without its row, no row without its content."""

    async def batch(conn: asyncpg.Connection) -> int:
        expired = [r["id"] for r in await conn.fetch(SQL["expired_blobs"], BLOB_BATCH)]
        if expired:
            await conn.execute(SQL["purge_expired"], expired)  # those attached meanwhile stay
        finished = 0
        for row in await conn.fetch(SQL["deleted_blobs"], BLOB_BATCH):
            await finish_deletion(conn, store_of(store, row["store"]), row["id"])
            finished += 1
        return max(len(expired), finished)

    return PeriodicJob(name="purge_blobs", interval=interval, batch=batch, batch_size=BLOB_BATCH)


def event_export_purge(retention_days: float) -> PeriodicJob:
    """Delivered deliveries and the events no delivery waits for go once older than the retention."""

    async def batch(conn: asyncpg.Connection) -> int:
        deliveries = int((await conn.execute(EXPORTS_SQL["prune_deliveries"], retention_days, BATCH)).split()[-1])
        events = int((await conn.execute(EXPORTS_SQL["prune_events"], retention_days, BATCH)).split()[-1])
        return max(deliveries, events)

    return PeriodicJob(name="purge_event_exports", interval=15 * 60, batch=batch, batch_size=BATCH)


def jobs_for(store: BlobStore, interval: float, event_retention_days: float = 30.0) -> list[PeriodicJob]:
    """Every periodic job of an instance whose blobs are in `store`; `interval`: EVACASE_JOBS_INTERVAL_SECONDS."""
    return [
        *JOBS,
        blob_purge(store, interval),
        event_export_purge(event_retention_days),
        *service_level_jobs(interval),
    ]


def store_of(configured: BlobStore, kind: str) -> BlobStore:
    """The store a blob's content is in (a blob stored before the store was changed keeps its own kind)."""
    if kind == configured.kind:
        return configured
    if kind == "postgresql":
        return PostgresStore()
    raise RuntimeError(f"a blob's content is in a `{kind}` store, and this instance is configured for another")
