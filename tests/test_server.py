"""The HTTP server's guards, on a real uvicorn with evacase's protocol and raw sockets: oversized headers are a 431
and slow clients are cut off (issue 11, defects 10 and 13); /health turns 503 while draining; the log line keeps
every value short."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator

import uvicorn
from structlog.testing import capture_logs

from evacase.app import create_app
from evacase.server import DRAINING, GuardedHttpToolsProtocol, Limits
from tests.conftest import make_settings, serving
from tests.helpers import customer


class SmallLimits(GuardedHttpToolsProtocol):
    fixed_limits = Limits(max_header_bytes=4096, request_timeout=0.5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def running(db_dsn: str) -> AsyncIterator[int]:
    """evacase on a real uvicorn (evacase's protocol with small limits) on a free port."""
    port = free_port()
    config = uvicorn.Config(
        create_app(make_settings(db_dsn)),
        host="127.0.0.1",
        port=port,
        http=SmallLimits,
        log_level="warning",
        timeout_keep_alive=1,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn.Server offers no event to wait on
        await asyncio.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


async def exchange(port: int, data: bytes, *, then_wait: float = 5) -> bytes:
    """Send `data`, then read until the server closes the connection (at most `then_wait` seconds)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), then_wait)
    finally:
        writer.close()


def status_and_error(raw: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)["Error"]


def message(service: str, headers: dict[str, str], body: bytes = b"{}") -> bytes:
    lines = [f"POST /message/{service} HTTP/1.1", "Host: x", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def test_oversized_headers_are_a_431_with_an_eva_body_and_the_connection_closes(db_dsn: str) -> None:
    async with running(db_dsn) as port:
        ok = await exchange(port, message("Ping", {"Authorization": customer(1), "Connection": "close"}))
        assert ok.startswith(b"HTTP/1.1 200")
        for big in ({"EVA-User-Agent": "x" * 5000}, {f"X-{n}": "y" * 100 for n in range(60)}):
            raw = await exchange(port, message("Ping", big))
            status, error = status_and_error(raw)
            assert (status, error["Code"], error["Type"]) == (
                431,
                "RequestHeaderFieldsTooLarge",
                "RequestHeaderFieldsTooLarge",
            )
            assert error["Message"] == "The request line and headers take more than 4096 bytes."
        # A header of several megabytes is refused as its first kilobytes arrive.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /message/Ping HTTP/1.1\r\nEVA-User-Agent: ")
        with contextlib.suppress(ConnectionError):
            for _ in range(2048):
                writer.write(b"z" * 1024)
                await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert raw.startswith(b"HTTP/1.1 431 ")


async def test_a_request_sent_a_byte_at_a_time_is_cut_off_with_a_408(db_dsn: str) -> None:
    async with running(db_dsn) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = message("Ping", {"Authorization": customer(1)})
        answer = asyncio.ensure_future(reader.read())  # the answer, complete when the server ends its side
        for byte in request:  # 20 bytes a second: the deadline passes long before the request is complete
            if answer.done():
                break
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)
        raw = await asyncio.wait_for(answer, 5)
        writer.close()
        status, error = status_and_error(raw)
        assert (status, error["Code"]) == (408, "RequestTimeout")
        # A body that never ends is cut off the same way.
        head = message("Ping", {"Authorization": customer(1)}, b"{}").replace(
            b"Content-Length: 2", b"Content-Length: 99"
        )
        status, error = status_and_error(await exchange(port, head))
        assert (status, error["Code"]) == (408, "RequestTimeout")


async def test_a_connection_that_never_sends_is_closed_after_the_keep_alive_timeout(db_dsn: str) -> None:
    async with running(db_dsn) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server, after about 1 s
        writer.close()


async def test_health_answers_503_shutting_down_while_the_server_drains(db_dsn: str) -> None:
    async with serving(make_settings(db_dsn)) as api:
        assert (await api.client.get("/health")).status_code == 200
        DRAINING.set()
        try:
            r = await api.client.get("/health")
            assert (r.status_code, r.json()) == (503, {"Status": "ShuttingDown"})
            assert (await api.call("Ping", {}, customer(1))).status_code == 200  # still serving meanwhile
        finally:
            DRAINING.clear()


async def test_the_request_log_line_caps_what_it_takes_from_the_request(db_dsn: str) -> None:
    async with serving(make_settings(db_dsn)) as api:
        with capture_logs() as logs:
            await api.call("Ping", {}, None, EVA_User_Agent="u" * 2_000_000)
            await api.call("N" * 5000, {}, customer(1))
    lines = [e for e in logs if e["event"] == "request"]
    assert lines[0]["status"] == 401 and lines[0]["user_agent"] == "u" * 200 + "..."
    assert lines[1]["status"] == 404 and lines[1]["service"] == "N" * 200
    assert all(len(str(v)) <= 203 for e in lines for v in e.values())
