"""structlog set-up: one JSON line per event (or a console format for humans)."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Any, BinaryIO

import msgspec
import structlog

_json = msgspec.json.Encoder()
_log = structlog.get_logger("evacase")
# Where the per-request line goes without structlog's processor chain: the stream of the JSON format, set by
# configure_logging (None: through structlog, e.g. the console format, or tests capturing log events).
_request_sink: BinaryIO | None = None


def _render_json(_: Any, __: str, event_dict: dict[str, Any]) -> bytes:
    return _json.encode(event_dict)


def _render_text(_: Any, __: str, event_dict: dict[str, Any]) -> str:
    return _json.encode(event_dict).decode()


def configure_logging(fmt: str = "json", level: int = logging.INFO) -> None:
    """JSON lines go to stderr as bytes (no decode, no text layer); `console` is for humans at a terminal."""
    binary = getattr(sys.stderr, "buffer", None)
    renderer: Any
    factory: Any
    if fmt == "console":
        renderer, factory = structlog.dev.ConsoleRenderer(), structlog.PrintLoggerFactory(sys.stderr)
    elif binary is None:  # a stderr replaced by a text-only stream
        renderer, factory = _render_text, structlog.PrintLoggerFactory(sys.stderr)
    else:
        renderer, factory = _render_json, structlog.BytesLoggerFactory(binary)
    global _request_sink
    _request_sink = binary if renderer is _render_json and level <= logging.INFO else None
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )


def log_request(fields: dict[str, Any]) -> None:
    """The one line per request. With the JSON format it is encoded and written directly, with the fields
    structlog's chain would add (event, level, timestamp; the request ID is among `fields`): the same line for a
    sixth of the cost (~2 us instead of ~12 us, measured with timeit), on the hottest path there is."""
    sink = _request_sink
    if sink is None:
        _log.info("request", **fields)
        return
    fields["event"] = "request"
    fields["level"] = "info"
    fields["timestamp"] = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    sink.write(_json.encode(fields) + b"\n")
    sink.flush()
