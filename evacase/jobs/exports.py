"""The delivery worker of event exports: claims due deliveries (FOR UPDATE SKIP LOCKED, a lease per delivery,
each case's events in order, at most ConcurrentRequests per configuration across every process), posts each
signed event, and records the outcome: delivered, or tried again with exponential backoff and jitter; after
`failures_before_error` consecutive failures its configuration goes to Error and waits (nothing is dropped).
It wakes on LISTEN evacase_event_deliveries (every queued delivery notifies at commit) and polls besides, so a
lost notification or a pooler without LISTEN only delays a delivery. It runs inside `serve` (unless
`--no-worker`) or alone as `evacase worker`; any number of them may run at once."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass

import asyncpg
import structlog

from evacase.db import load_queries, pooler_mode
from evacase.domain.deliveries import Delivery, Event, Outcome, body_of, post, signed_request_headers
from evacase.domain.event_exports import ExportSettings, delivery_for
from evacase.domain.events import INTERACTION_EVENT_TYPES
from evacase.domain.secrets import SecretUnavailable
from evacase.pool import Pool

log = structlog.get_logger("evacase.exports")

SQL = load_queries("event_exports")
CHANNEL = "evacase_event_deliveries"


def retry_delay(settings: ExportSettings, attempt: int) -> float:
    """Seconds before the try after failed attempt `attempt` (1-based): base x 2^(attempt-1), capped, +-20%."""
    delay = min(settings.retry_base_seconds * 2 ** min(attempt - 1, 30), settings.retry_max_seconds)
    return float(delay * random.uniform(0.8, 1.2))


@dataclass
class DeliveryWorker:
    pool: Pool
    settings: ExportSettings
    dsn: str | None = None  # for the LISTEN connection (None: poll only)

    def __post_init__(self) -> None:
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Deliver until cancelled."""
        listener = asyncio.ensure_future(self._listen()) if self.dsn else None
        try:
            while True:
                try:
                    handled = await self.deliver_due()
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                    log.warning("delivery_worker_failed", error=type(exc).__name__, detail=str(exc)[:200])
                    handled = 0
                if handled:
                    continue
                await self._sleep()
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def _sleep(self) -> None:
        wait = self.settings.poll_seconds
        with contextlib.suppress(Exception):
            async with self.pool.acquire() as conn:
                due = await conn.fetchval(SQL["next_due"])
            if due is not None:
                wait = min(wait, max(float(due), 0.01))
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._wake.wait()

    async def _listen(self) -> None:
        """Hold a LISTEN connection; reconnect after a failure (deliveries are polled meanwhile). Behind a pooler
        in transaction mode a LISTEN cannot stay on one server connection: the worker polls every second."""
        assert self.dsn is not None
        if pooler_mode() == "transaction":
            while True:
                await asyncio.sleep(1)
                self._wake.set()
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(self.dsn, statement_cache_size=0)
                await conn.add_listener(CHANNEL, lambda *_: self._wake.set())
                self._wake.set()  # anything queued while not listening
                while not conn.is_closed():
                    await asyncio.sleep(self.settings.poll_seconds)
                    await conn.execute("SELECT 1")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("delivery_listen_failed", error=type(exc).__name__, detail=str(exc)[:200])
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=1)
            await asyncio.sleep(self.settings.poll_seconds)

    async def deliver_due(self) -> int:
        """One pass: for every deliverable configuration, claim what is due and deliver it. The number claimed."""
        async with self.pool.acquire() as conn:
            configurations = [r["id"] for r in await conn.fetch(SQL["deliverable_exports"])]
        passes = [self._deliver_for(configuration) for configuration in configurations]
        return sum(await asyncio.gather(*passes))

    async def _deliver_for(self, configuration: int) -> int:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(SQL["export_delivery"], configuration)
            if row is None or row["endpoint"] is None:
                return 0
            try:
                delivery = delivery_for(self.settings, row, row["export_timeout_seconds"], row["export_auth_config"])
            except SecretUnavailable as exc:
                log.warning("delivery_secrets_unavailable", configuration=configuration, detail=str(exc))
                return 0
            async with conn.transaction():
                claimed = await conn.fetch(
                    SQL["claim_deliveries"], configuration, delivery.timeout + self.settings.lease_margin_seconds
                )
        await asyncio.gather(*(self._deliver(configuration, delivery, c) for c in claimed))
        return len(claimed)

    async def _deliver(self, configuration: int, delivery: Delivery, claimed: asyncpg.Record) -> None:
        kind = claimed["event_type"]
        event = Event(
            uid=str(claimed["uid"]),
            creation_time=claimed["created_at"],
            target="Cases",
            event_type=kind,
            identifier=claimed["case_id"],
            backend_id=claimed["backend_id"],
            backend_system_id=claimed["backend_system_id"],
            data={"InteractionID": claimed["interaction_id"]} if kind in INTERACTION_EVENT_TYPES else None,
        )
        attempt = claimed["attempt"]
        body = body_of(event, delivery, attempt)
        outcome = await post(
            self.settings.client(),
            delivery,
            signed_request_headers(event, delivery, attempt, body),
            body,
            self.settings.allow_insecure,
        )
        log.info(
            "event_delivery",
            configuration=configuration,
            event_uid=event.uid,
            event_type=kind,
            case_id=event.identifier,
            attempt=attempt,
            status=outcome.status_code,
            success=outcome.success,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
        )
        await self._record(configuration, claimed["event_id"], attempt, outcome)

    async def _record(self, configuration: int, event_id: int, attempt: int, outcome: Outcome) -> None:
        async with self.pool.acquire() as conn:
            if outcome.success:
                await conn.execute(SQL["record_delivered"], configuration, event_id, attempt, outcome.status_code)
                return
            reason = f"{self.settings.failures_before_error} consecutive deliveries failed; the last: {outcome.error}"
            await conn.fetchval(
                *SQL.bound(
                    "record_failed",
                    configuration_id=configuration,
                    event_id=event_id,
                    attempt=attempt,
                    status=outcome.status_code,
                    error=(outcome.error or "")[:500],
                    retry_seconds=retry_delay(self.settings, attempt),
                    failures_before_error=self.settings.failures_before_error,
                    reason=reason[:500],
                )
            )
