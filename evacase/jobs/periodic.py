"""Periodic jobs: each runs every `interval` seconds in whichever process takes its advisory lock first, in
batches of one transaction each, so it is idempotent, safe to interrupt, and never runs twice at once however
many instances serve. A job acts as the system, never as a request."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import structlog

from evacase import metrics
from evacase.pool import Pool

log = structlog.get_logger("evacase.jobs")

# One batch: (connection in a transaction) -> how many rows it handled; a short batch means the job is done.
Batch = Callable[[asyncpg.Connection], Awaitable[int]]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: float  # seconds between runs
    batch: Batch
    batch_size: int


async def run_once(pool: Pool, job: PeriodicJob) -> int | None:
    """One run of `job`: batches until a short one; None when another process holds the job."""
    total = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval(
                "SELECT pg_try_advisory_xact_lock(hashtextextended('evacase.job' || chr(31) || $1, 0))", job.name
            ):
                return None if total == 0 else total
            done = await job.batch(conn)
        total += done
        if done < job.batch_size:
            return total


async def run_periodically(pool: Pool, jobs: list[PeriodicJob]) -> None:
    """Run every job at its interval until cancelled; a failed run is logged and tried again next time."""

    async def loop(job: PeriodicJob) -> None:
        while True:
            await asyncio.sleep(job.interval)
            try:
                handled = await run_once(pool, job)
            except Exception as exc:  # the database may be down: the next run tries again
                log.warning("job_failed", job=job.name, error=type(exc).__name__, detail=str(exc)[:200])
                metrics.JOB_RUNS.labels(job.name, "failed").inc()
                continue
            metrics.JOB_RUNS.labels(job.name, "ran" if handled else "idle").inc()
            if handled:
                log.info("job_ran", job=job.name, handled=handled)

    tasks = [asyncio.ensure_future(loop(job)) for job in jobs]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
