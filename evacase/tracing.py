"""OpenTelemetry tracing: optional (`pip install 'evacase[otel]'`) and off unless EVACASE_OTEL=true.

Each message becomes a server span `POST /message/<Service>`, a child of the caller's W3C `traceparent`, with
the database statements it ran as its children (opentelemetry-instrumentation-asyncpg), sent in batches by OTLP
over HTTP to where the standard variables say (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, ...;
default http://localhost:4318). Off, it costs one check per request."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from evacase.config import ConfigError

_tracer: Any = None  # the SDK's tracer while tracing is on
_provider: Any = None
_propagator: Any = None


def enabled() -> bool:
    return _tracer is not None


def require() -> None:
    """ConfigError unless the otel extra is installed (serve checks before it starts anything)."""
    try:
        import opentelemetry.exporter.otlp.proto.http.trace_exporter
        import opentelemetry.instrumentation.asyncpg
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError:
        raise ConfigError("EVACASE_OTEL=true needs the otel extra: pip install 'evacase[otel]'") from None


def configure(on: bool, service_version: str, exporter: Any = None) -> None:
    """Start tracing (once per process; `exporter` replaces OTLP in tests) or leave it off."""
    global _tracer, _provider, _propagator
    if not on or _tracer is not None:
        return
    require()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    # OTEL_SERVICE_NAME names the service if set (these attributes would override it), else "evacase".
    name = os.environ.get("OTEL_SERVICE_NAME") or "evacase"
    provider = TracerProvider(resource=Resource.create({"service.name": name, "service.version": service_version}))
    provider.add_span_processor(BatchSpanProcessor(exporter or OTLPSpanExporter()))
    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    _provider, _propagator = provider, TraceContextTextMapPropagator()
    _tracer = provider.get_tracer("evacase")


def shutdown() -> None:
    """Send what is still batched and stop (the app's lifespan ends)."""
    global _tracer, _provider
    if _provider is not None:
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

        AsyncPGInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
        _provider.shutdown()
    _tracer = _provider = None


def start(service: str, headers: Mapping[str, str]) -> tuple[Any, Any]:
    """The request's span, made current (the database spans nest under it), and the token to detach it."""
    from opentelemetry import context, trace

    parent = _propagator.extract(headers)
    span = _tracer.start_span(
        f"POST /message/{service}",
        context=parent,
        kind=trace.SpanKind.SERVER,
        attributes={"http.request.method": "POST", "url.path": f"/message/{service}"},
    )
    return span, context.attach(trace.set_span_in_context(span, parent))


def finish(handle: tuple[Any, Any], service: str | None, status: int, error_code: str | None, user_type: Any) -> None:
    from opentelemetry import context
    from opentelemetry.trace import Status, StatusCode

    span, token = handle
    span.set_attribute("http.response.status_code", status)
    if service:
        span.set_attribute("evacase.service", service)
    if error_code:
        span.set_attribute("evacase.error_code", error_code)
    if user_type is not None:
        span.set_attribute("evacase.user_type", int(user_type))
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR, error_code or str(status)))
    span.end()
    context.detach(token)
