"""structlog set-up: one JSON line per event (or a console format for humans)."""

from __future__ import annotations

import logging
import sys
from typing import Any

import msgspec
import structlog

_json = msgspec.json.Encoder()


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
