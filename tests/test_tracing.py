"""OpenTelemetry tracing (issue 18): off by default; on (EVACASE_OTEL=true, the otel extra), each message is a
server span that continues the caller's W3C trace, with the statements it ran as child spans, exported over
OTLP/HTTP where the standard OTEL_* variables say."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from evacase import tracing
from tests.conftest import make_settings, serving
from tests.helpers import customer

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"
CASE = {"TopicID": 1, "Title": "Traced parcel", "Description": "Where is it?"}


async def test_tracing_is_off_by_default(db_dsn: str) -> None:
    async with serving(make_settings(db_dsn)) as api:
        assert not tracing.enabled()
        assert (await api.call("Ping", {}, customer(1))).status_code == 200


async def test_a_message_is_a_server_span_in_the_callers_trace_with_its_statements_as_children(db_dsn: str) -> None:
    exporter = InMemorySpanExporter()
    tracing.configure(True, "test", exporter=exporter)
    try:
        async with serving(make_settings(db_dsn, otel=True)) as api:
            created = await api.call("CustomerCreateCase", CASE, customer(7), traceparent=TRACEPARENT)
            refused = await api.call("CustomerGetCaseByID", {"ID": 1}, None)
            made_up = await api.call("NoSuchService<script>", {}, customer(7))
    finally:
        tracing.shutdown()
    assert (created.status_code, refused.status_code, made_up.status_code) == (200, 401, 404)
    assert not tracing.enabled()
    spans = exporter.get_finished_spans()
    servers = [s for s in spans if s.kind == SpanKind.SERVER]
    assert [s.name for s in servers] == [
        "POST /message/CustomerCreateCase",
        "POST /message/CustomerGetCaseByID",
        "POST /message/unknown",  # a made-up name never names a span
    ]
    create, get, _ = servers
    assert f"{create.context.trace_id:032x}" == TRACE_ID  # the caller's trace, continued
    assert create.parent is not None and f"{create.parent.span_id:016x}" == PARENT_SPAN_ID
    assert dict(create.attributes or {}) == {
        "http.request.method": "POST",
        "url.path": "/message/CustomerCreateCase",
        "http.response.status_code": 200,
        "evacase.service": "CustomerCreateCase",
        "evacase.user_type": 2,
    }
    assert create.status.status_code == StatusCode.UNSET
    assert dict(get.attributes or {})["evacase.error_code"] == "MissingToken"
    assert f"{get.context.trace_id:032x}" != TRACE_ID and get.parent is None  # a trace of its own
    statements = [s for s in spans if s.parent is not None and s.parent.span_id == create.context.span_id]
    assert statements and all(s.kind == SpanKind.CLIENT for s in statements)
    assert all(s.context.trace_id == create.context.trace_id for s in statements)
    texts = [str((s.attributes or {}).get("db.statement", "")) for s in statements]
    assert any("INSERT INTO cases" in t or "cases" in t for t in texts), texts
    assert not any("Traced parcel" in t for t in texts)  # values travel as parameters, never in the statement


class _Collector(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """A stand-in OTLP/HTTP collector on loopback, recording what it is sent."""
    received: list[tuple[str, str, bytes]] = []
    handler = type("Collector", (_Collector,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_spans_are_sent_over_otlp_http_where_the_otel_variables_say(
    db_dsn: str, collector: tuple[str, list[tuple[str, str, bytes]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = collector
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "evacase-test")
    async with serving(make_settings(db_dsn, otel=True)) as api:
        assert tracing.enabled()
        assert (await api.call("Ping", {}, customer(1), traceparent=TRACEPARENT)).status_code == 200
    assert not tracing.enabled()  # the lifespan's end sent the batch and stopped
    assert received and {(path, kind) for path, kind, _ in received} == {("/v1/traces", "application/x-protobuf")}
    exported = ExportTraceServiceRequest()
    exported.ParseFromString(received[0][2])
    (resource,) = exported.resource_spans
    attributes = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert attributes["service.name"] == "evacase-test"
    names = [span.name for scope in resource.scope_spans for span in scope.spans]
    assert "POST /message/Ping" in names
    (ping,) = [span for scope in resource.scope_spans for span in scope.spans if span.name == "POST /message/Ping"]
    assert ping.trace_id.hex() == TRACE_ID and ping.parent_span_id.hex() == PARENT_SPAN_ID
