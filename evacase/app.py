"""The HTTP surface: POST /message/{ServiceName}, GET /health, CORS, request IDs and the per-request log line."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections.abc import AsyncIterator, Mapping

import msgspec
import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from evacase import blob_transfer, explorer, metrics, tracing
from evacase.config import Settings
from evacase.dispatch import Incoming, Outcome, dispatch
from evacase.domain.events import outbox_lag
from evacase.errors import EvaError, MethodNotAllowed, NotFound, RequestTooLarge
from evacase.jobs.exports import DeliveryWorker
from evacase.jobs.periodic import run_periodically
from evacase.jobs.purges import jobs_for
from evacase.logs import configure_logging, log_request
from evacase.migrate import schema_version
from evacase.openapi import openapi_document, package_version
from evacase.runtime import Runtime, running
from evacase.server import DRAINING
from evacase.services import build_registry

log = structlog.get_logger("evacase")
EXPECTED_SCHEMA = schema_version()

EVA_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "EVA-User-Agent",
    "EVA-IDs-Mode",
    "EVA-IDs-BackendSystemID",
    "EVA-Requested-OrganizationUnitID",
    "EVA-Requested-OrganizationUnit-Query",
    "EVA-API-Version",
    "EVA-App-ContextID",
    "EVA-App-PayloadID",
    "EVA-Service-Name",
    "Idempotency-Key",
    "X-Request-ID",
    "traceparent",
]


MAX_LOGGED = 200  # characters of any value a log line takes from a request


def _capped(value: str | None) -> str | None:
    return value if value is None or len(value) <= MAX_LOGGED else value[:MAX_LOGGED] + "..."


def new_request_id() -> str:
    """32 random hex digits, as EVA's request IDs look. A request ID names a request in logs and answers and
    guards nothing, so Python's own generator (no system call: under half of os.urandom's cost) is random
    enough."""
    return random.randbytes(16).hex()


_GIVEN_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,64}")
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")


def request_id_of(headers: dict[str, str]) -> tuple[str, bool]:
    """The request's ID and whether the client chose it: an incoming `X-Request-ID` (1 to 64 characters of
    letters, digits and . _ : @ / + = -; anything else is ignored, never logged), else the trace ID of a W3C
    `traceparent` (so logs join the caller's trace), else a new one."""
    given = headers.get("x-request-id")
    if given is not None and _GIVEN_ID.fullmatch(given):
        return given, True
    parent = headers.get("traceparent")
    if parent is not None:
        match = _TRACEPARENT.fullmatch(parent)
        if match is not None and match.group(1) != "0" * 32 and not parent.startswith("ff"):
            return match.group(1), False
    return new_request_id(), False


def _too_large(limit: int, request_id: str) -> Outcome:
    error = RequestTooLarge(f"The request body is larger than the limit of {limit} bytes.")
    return Outcome(error.status, error.body(request_id), error_code=error.code)


async def answer(
    rt: Runtime,
    service: str,
    headers: Mapping[str, str],
    body: bytes | Outcome,
    request_id: str,
    started: float,
    origin: str = "http://localhost",
) -> Outcome:
    """Dispatch one message (or pass on a 413 outcome) and write its log line."""
    # Every log line written while serving this request carries its ID.
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    # A span is named by a registered service only (never by what a client made up: names stay few).
    traced = tracing.start(service if rt.registry.get(service) else "unknown", headers) if tracing.enabled() else None
    if isinstance(body, Outcome):
        outcome = body
    else:
        ids_mode = headers.get("eva-ids-mode", "").lower()
        incoming = Incoming(
            service=service,
            body=body,
            request_id=request_id,
            authorization=headers.get("authorization"),
            string_ids=ids_mode == "stringids",
            external_ids=ids_mode == "externalids",
            backend_system_id=headers.get("eva-ids-backendsystemid"),
            idempotency_key=headers.get("idempotency-key"),
            origin=origin,
        )
        outcome = await dispatch(rt, incoming)
    caller = outcome.caller
    if traced is not None:
        tracing.finish(
            traced, outcome.service, outcome.status, outcome.error_code, caller.user_type if caller else None
        )
    elapsed = time.perf_counter() - started
    metrics.observe_request(outcome.service or "unknown", outcome.status, elapsed, outcome.error_code)
    log_request(
        {
            "service": outcome.service or service[:MAX_LOGGED],
            "user_id": caller.user_id if caller else None,
            "user_type": caller.user_type if caller else None,
            "status": outcome.status,
            "error_code": outcome.error_code,
            "duration_ms": round(elapsed * 1000, 2),
            "request_id": request_id,
            "user_agent": _capped(headers.get("eva-user-agent")),
        }
    )
    return outcome


class MessageEndpoint:
    """POST /message/{service} as a pure ASGI app in front of Starlette: answered before Starlette's middleware,
    router and Request/Response objects (a sixth of a small request's Python time under load); everything
    else, and a path that is not a single service name, goes on to the Starlette app."""

    PREFIX = "/message/"

    # The one service whose body may exceed max_body_bytes: StoreBlob carries its file in base64, up to the blob
    # size limit (a third more, and room for the rest of the message).
    LARGE_BODIES = frozenset({"StoreBlob"})

    def __init__(
        self, app: ASGIApp, max_body_bytes: int, cors_origins: tuple[str, ...] = (), blob_max_bytes: int = 0
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.large_body_bytes = max(max_body_bytes, (blob_max_bytes + 2) // 3 * 4 + 64 * 1024)
        self.cors_origins = frozenset(cors_origins)

    def _cors_headers(self, origin: str | None) -> list[tuple[bytes, bytes]]:
        """What Starlette's CORSMiddleware adds to an answer (its preflights still answer OPTIONS), added here
        directly instead of through a wrapped `send` (that cost 5-12% of a small read)."""
        if origin is None:
            return [(b"vary", b"Origin")]
        headers = [(b"access-control-expose-headers", b"EVA-Request-ID, X-Request-ID")]
        if "*" in self.cors_origins:
            headers.append((b"access-control-allow-origin", b"*"))
        elif origin in self.cors_origins:
            headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
        headers.append((b"vary", b"Origin"))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        service = path[len(self.PREFIX) :]
        one_service = path.startswith(self.PREFIX) and service and "/" not in service
        if scope["type"] != "http" or scope["method"] != "POST" or not one_service:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        request_id, echoed = request_id_of(headers)
        limit = self.large_body_bytes if service in self.LARGE_BODIES else self.max_body_bytes
        body = await self._read_body(headers, receive, request_id, limit)
        if body is None:  # the client went away
            return
        origin = f"{scope.get('scheme', 'http')}://{headers.get('host', 'localhost')}"
        outcome = await answer(scope["app"].state.runtime, service, headers, body, request_id, started, origin)
        response_headers = [
            (b"content-length", str(len(outcome.body)).encode()),
            (b"content-type", b"application/json"),
            (b"eva-request-id", request_id.encode()),
        ]
        if echoed:
            response_headers.append((b"x-request-id", request_id.encode()))
        if outcome.retry_after is not None:
            response_headers.append((b"retry-after", str(outcome.retry_after).encode()))
        if outcome.replayed:
            response_headers.append((b"idempotent-replayed", b"true"))
        if self.cors_origins:
            response_headers += self._cors_headers(headers.get("origin"))
        await send({"type": "http.response.start", "status": outcome.status, "headers": response_headers})
        await send({"type": "http.response.body", "body": outcome.body})

    async def _read_body(
        self, headers: dict[str, str], receive: Receive, request_id: str, limit: int
    ) -> bytes | Outcome | None:
        """The body, a 413 outcome as soon as it is known to exceed `limit`, or None on a disconnect."""
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return _too_large(limit, request_id)
        chunks = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return _too_large(limit, request_id)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def create_app(
    settings: Settings | None = None, jwt_secret: str | None = None, runtime: Runtime | None = None
) -> Starlette:
    """The ASGI app. Its lifespan opens a runtime from `settings` (`jwt_secret` overrides the settings' secret:
    serve passes the generated one) and closes it; a `runtime` given here (tests) is used as is and left open."""
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            tracing.configure(settings.otel, package_version())
            stack.callback(tracing.shutdown)
            if runtime is None:
                rt = await stack.enter_async_context(running(settings, build_registry(), jwt_secret))
            else:
                rt = runtime
            app.state.runtime = rt
            if settings.background_jobs:
                await stack.enter_async_context(_background(rt))
            if settings.worker:
                await stack.enter_async_context(_delivery_worker(rt))
            yield

    async def message(request: Request) -> Response:
        """Never reached for POST: MessageEndpoint answers /message/{service} before routing. The route stays so
        that other methods on it get EVA's 405."""
        raise HTTPException(404)

    described: list[bytes] = []  # the OpenAPI document, made on first request

    async def openapi(request: Request) -> Response:
        rt: Runtime = request.app.state.runtime
        if not described:
            described.append(msgspec.json.encode(openapi_document(rt.registry, package_version())))
        return Response(described[0], 200, {"EVA-Request-ID": new_request_id()}, "application/json")

    async def metrics_page(request: Request) -> Response:
        """Prometheus' text format; the pool and the outbox's lag as they are now."""
        rt: Runtime = request.app.state.runtime
        metrics.observe_pool(rt.pool.get_size(), rt.pool.get_idle_size(), rt.pool.waiting())
        try:
            async with rt.pool.acquire(timeout=2) as conn:
                metrics.OUTBOX_LAG.set(await outbox_lag(conn))
        except Exception as exc:  # the database is down: the other figures still count
            log.warning("metrics_outbox_lag_failed", error=type(exc).__name__)
        return Response(metrics.render(), 200, {"EVA-Request-ID": new_request_id()}, metrics.CONTENT_TYPE)

    async def live(request: Request) -> Response:
        """Liveness: the process answers (never touches the database; /health is the readiness check)."""
        return Response(b'{"Status":"OK"}', 200, {"EVA-Request-ID": new_request_id()}, "application/json")

    async def health(request: Request) -> Response:
        rt: Runtime = request.app.state.runtime
        headers = {"EVA-Request-ID": new_request_id()}
        if DRAINING.is_set():  # shutting down: out of the load balancer first, then drain
            return Response(b'{"Status":"ShuttingDown"}', 503, headers, "application/json")
        try:
            async with rt.pool.acquire(timeout=2) as conn:
                version = await conn.fetchval("SELECT max(version) FROM schema_version", timeout=2)
        except Exception as exc:  # any failure to reach the database means "not healthy"
            log.warning("health_check_failed", error=type(exc).__name__, detail=str(exc)[:200])
            headers["Retry-After"] = "1"
            return Response(b'{"Status":"DatabaseUnavailable"}', 503, headers, "application/json")
        if version != EXPECTED_SCHEMA:  # another instance's migration, not this code's schema
            log.warning("health_check_failed", error="SchemaMismatch", detail=f"{version} != {EXPECTED_SCHEMA}")
            return Response(b'{"Status":"SchemaMismatch"}', 503, headers, "application/json")
        return Response(b'{"Status":"OK"}', 200, headers, "application/json")

    # CORSMiddleware answers the preflights and adds its headers to the other paths; MessageEndpoint, in front
    # of all of Starlette, adds the CORS headers of its own answers.
    middleware: list[Middleware] = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["POST"],
                allow_headers=EVA_REQUEST_HEADERS,
                expose_headers=["EVA-Request-ID", "X-Request-ID"],
                max_age=600,
            )
        )
    routes = [
        Route("/message/{service}", message, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/health/live", live, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
        Route("/blob/{guid}", blob_transfer.download, methods=["GET", "HEAD"]),
        Route("/blob/{guid}", blob_transfer.upload, methods=["POST"]),
        *explorer.routes(settings, new_request_id),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        """Paths and methods outside the protocol still answer with an EVA error body."""
        status = getattr(exc, "status_code", 500)
        error: EvaError
        if status == 405:
            error = MethodNotAllowed("Services are called with POST /message/{ServiceName}.")
        else:
            error = NotFound("There is nothing here: services are called with POST /message/{ServiceName}.")
        request_id = new_request_id()
        return Response(error.body(request_id), error.status, {"EVA-Request-ID": request_id}, "application/json")

    app = EvacaseApp(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error},
    )
    app.messages = MessageEndpoint(
        app.starlette,
        max_body_bytes=settings.max_body_bytes,
        cors_origins=settings.cors_origins,
        blob_max_bytes=settings.blob_max_bytes,
    )
    return app


class EvacaseApp(Starlette):
    """Starlette with POST /message/{service} answered in front of it: MessageEndpoint answers messages before
    any of Starlette's layers (its error middleware wraps every `send` in a closure of its own) and passes
    everything else on to Starlette as it is."""

    messages: MessageEndpoint

    async def starlette(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        await self.messages(scope, receive, send)


@contextlib.asynccontextmanager
async def _background(rt: Runtime) -> AsyncIterator[None]:
    """The periodic jobs, for as long as the app runs."""
    jobs = asyncio.ensure_future(
        run_periodically(rt.pool, jobs_for(rt.blobs.store, rt.jobs_interval, rt.exports.retention_days))
    )
    try:
        yield
    finally:
        jobs.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await jobs


@contextlib.asynccontextmanager
async def _delivery_worker(rt: Runtime) -> AsyncIterator[None]:
    """The event-export delivery worker, for as long as the app runs (`serve --no-worker` leaves it out)."""
    worker = asyncio.ensure_future(DeliveryWorker(rt.pool, rt.exports, rt.database_url).run())
    try:
        yield
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


def create_app_from_env() -> Starlette:
    """Factory for uvicorn workers: settings (and the serve-generated secret) come from the environment."""
    settings = Settings.from_env()
    configure_logging(settings.log_format)
    return create_app(settings)
