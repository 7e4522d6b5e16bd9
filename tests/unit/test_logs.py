"""The per-request log line written without structlog's chain is the line structlog writes (no database)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import re
import sys
from collections.abc import Iterator

import pytest
import structlog

from evacase import logs


@pytest.fixture
def stderr_bytes(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.BytesIO]:
    written = io.BytesIO()

    class Stderr:
        buffer = written

    monkeypatch.setattr(sys, "stderr", Stderr())
    logs.configure_logging("json")
    try:
        yield written
    finally:
        structlog.reset_defaults()
        logs._request_sink = None


def test_the_request_line_has_the_fields_and_values_of_structlogs_line(stderr_bytes: io.BytesIO) -> None:
    fields = {
        "service": "CustomerGetCaseByID",
        "user_id": 7,
        "user_type": 2,
        "status": 200,
        "error_code": None,
        "duration_ms": 1.25,
        "request_id": "0" * 32,
        "user_agent": "shop/1.0",
    }
    logs.log_request(dict(fields))
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id="0" * 32)
    structlog.get_logger("evacase").info("request", **fields)
    structlog.contextvars.clear_contextvars()
    direct, chained = (json.loads(line) for line in stderr_bytes.getvalue().splitlines())
    iso_utc = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z"
    assert re.fullmatch(iso_utc, direct.pop("timestamp")) and re.fullmatch(iso_utc, chained.pop("timestamp"))
    assert direct == chained == {**fields, "event": "request", "level": "info"}


def test_without_evacases_json_format_the_line_goes_through_structlog() -> None:
    assert logs._request_sink is None
    with structlog.testing.capture_logs() as captured:
        logs.log_request({"service": "Ping", "status": 200})
    assert captured == [{"service": "Ping", "status": 200, "event": "request", "log_level": "info"}]


async def test_lines_written_in_one_turn_of_the_loop_are_flushed_together_before_the_next(
    stderr_bytes: io.BytesIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Counting(io.BufferedWriter):
        flushes = 0

        def flush(self) -> None:
            Counting.flushes += 1
            super().flush()

    written = io.BytesIO()
    sink = Counting(written)  # type: ignore[arg-type]
    monkeypatch.setattr(logs, "_request_sink", sink)
    for n in range(3):
        logs.log_request({"service": "Ping", "status": 200, "n": n})
    assert written.getvalue() == b"" and Counting.flushes == 0  # held until the loop turns
    await asyncio.sleep(0)
    assert [json.loads(line)["n"] for line in written.getvalue().splitlines()] == [0, 1, 2]
    assert Counting.flushes == 1
    logs.log_request({"service": "Ping", "status": 200, "n": 3})
    await asyncio.sleep(0)
    assert len(written.getvalue().splitlines()) == 4 and Counting.flushes == 2


def test_the_timestamp_reads_as_the_clock_in_utc_with_microseconds() -> None:
    before = dt.datetime.now(dt.UTC)
    stamp = logs._timestamp()
    after = dt.datetime.now(dt.UTC)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp)
    assert before - dt.timedelta(microseconds=1) <= dt.datetime.fromisoformat(stamp) <= after
