"""structlog set-up: one JSON line per event (or a console format for humans)."""

from __future__ import annotations

import logging
import sys
from typing import Any

import msgspec
import structlog

_json = msgspec.json.Encoder()


def _render_json(_: Any, __: str, event_dict: dict[str, Any]) -> str:
    return _json.encode(event_dict).decode()


def configure_logging(fmt: str = "json", level: int = logging.INFO) -> None:
    renderer: Any = structlog.dev.ConsoleRenderer() if fmt == "console" else _render_json
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
