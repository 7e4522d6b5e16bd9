"""Prometheus metrics (GET /metrics): requests by service and status, their latency, database faults, the pool,
the event outbox's lag and the background jobs' runs. Label values are bounded: registered service names (or
`unknown`), HTTP statuses, error codes of the catalogue, job names.

With several uvicorn workers (`evacase serve --workers N`) every worker writes its figures to files under
PROMETHEUS_MULTIPROC_DIR (serve sets it) and /metrics, whichever worker answers it, adds them up."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
CONTENT_TYPE = CONTENT_TYPE_LATEST

REQUESTS = Counter("evacase_requests", "Requests answered, by service and HTTP status.", ["service", "status"])
LATENCY = Histogram(
    "evacase_request_duration_seconds",
    "Time from a request's arrival to its answer, by service.",
    ["service"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DATABASE_FAULTS = Counter(
    "evacase_database_faults", "Requests answered 503 because of the database, by error code.", ["code"]
)
POOL_CONNECTIONS = Gauge(
    "evacase_pool_connections", "The request pool's connections, by state.", ["state"], multiprocess_mode="livesum"
)
POOL_WAITERS = Gauge(
    "evacase_pool_waiters", "Requests waiting for a connection of the pool.", multiprocess_mode="livesum"
)
OUTBOX_LAG = Gauge(
    "evacase_outbox_lag_seconds",
    "Age of the oldest event delivery still waiting to be made (0: none waiting).",
    multiprocess_mode="mostrecent",
)
JOB_RUNS = Counter("evacase_job_runs", "Background job runs, by job and outcome.", ["job", "outcome"])

_request_children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}


def observe_request(service: str, status: int, seconds: float, error_code: str | None) -> None:
    """Count one answered request (the label children are cached: a few microseconds a request)."""
    key = (service, status)
    children = _request_children.get(key)
    if children is None:
        children = (REQUESTS.labels(service, str(status)), LATENCY.labels(service))
        if len(_request_children) < 10_000:
            _request_children[key] = children
    children[0].inc()
    children[1].observe(seconds)
    if status == 503 and error_code is not None:
        DATABASE_FAULTS.labels(error_code).inc()


def observe_pool(size: int, idle: int, waiters: int) -> None:
    POOL_CONNECTIONS.labels("open").set(size)
    POOL_CONNECTIONS.labels("idle").set(idle)
    POOL_WAITERS.set(waiters)


def render() -> bytes:
    """The exposition text: this process's figures, or every worker's added up."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()
