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
from evacase.server import DRAINING, GuardedHttpToolsProtocol, Limits, OneWriteTransport
from tests.conftest import make_settings, serving
from tests.helpers import customer


class SmallLimits(GuardedHttpToolsProtocol):
    fixed_limits = Limits(max_header_bytes=4096, request_timeout=0.5)


WRITES: list[bytes] = []  # what the server's connections wrote to their sockets, write by write


class Recorded:
    """A real transport whose writes are also recorded (the socket below gets them all the same)."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport

    def write(self, data: bytes) -> None:
        WRITES.append(bytes(data))
        self.transport.write(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self.transport, name)


class RecordedWrites(SmallLimits):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(Recorded(transport))  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def running(db_dsn: str, protocol: type[SmallLimits] = SmallLimits) -> AsyncIterator[int]:
    """evacase on a real uvicorn (evacase's protocol with small limits) on a free port."""
    port = free_port()
    config = uvicorn.Config(
        create_app(make_settings(db_dsn)),
        host="127.0.0.1",
        port=port,
        http=protocol,
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


async def read_answer(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    return head + await reader.readexactly(length)


async def test_an_answer_leaves_in_one_write_head_and_body_together(db_dsn: str) -> None:
    # uvicorn writes a response's head and body apart (two send calls, two TCP segments); evacase's protocol
    # joins them. Keep-alive, pipelined requests and Expect: 100-continue still work.
    WRITES.clear()
    async with running(db_dsn, RecordedWrites) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            ping = message("Ping", {"Authorization": customer(1)})
            for _ in range(3):  # one connection, one request after the other
                writer.write(ping)
                answer = await asyncio.wait_for(read_answer(reader), 5)
                assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"{}")
                assert WRITES[-1] == answer
            assert len(WRITES) == 3
            # Two requests in one packet: two answers, in order, each whole.
            unknown = message("NoSuchService", {"Authorization": customer(1)})
            writer.write(ping + unknown)
            first = await asyncio.wait_for(read_answer(reader), 5)
            second = await asyncio.wait_for(read_answer(reader), 5)
            assert first.startswith(b"HTTP/1.1 200 ") and second.startswith(b"HTTP/1.1 404 ")
            assert b"UnknownService" in second and b"".join(WRITES[3:]) == first + second
            # Expect: 100-continue: the interim answer goes out at once, on its own; then the answer.
            del WRITES[:]
            head, _, body = message("Ping", {"Authorization": customer(1), "Expect": "100-continue"}).partition(
                b"\r\n\r\n"
            )
            writer.write(head + b"\r\n\r\n")
            assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5) == b"HTTP/1.1 100 Continue\r\n\r\n"
            writer.write(body)
            answer = await asyncio.wait_for(read_answer(reader), 5)
            # (the head is not held there: uvicorn decides on 100 Continue only once the app reads the body)
            assert answer.startswith(b"HTTP/1.1 200 ")
            assert WRITES[0] == b"HTTP/1.1 100 Continue\r\n\r\n" and b"".join(WRITES[1:]) == answer
        finally:
            writer.close()


class Transport:
    """What a transport was asked to do, in order (the hold-and-join logic on its own)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []

    def write(self, data: bytes) -> None:
        self.calls.append(("write", data))

    def writelines(self, chunks: tuple[bytes, ...]) -> None:
        self.calls.append(("writelines", b"".join(chunks)))

    def write_eof(self) -> None:
        self.calls.append(("eof", b""))

    def close(self) -> None:
        self.calls.append(("close", b""))

    def is_closing(self) -> bool:
        return False


async def test_a_held_head_goes_out_with_its_body_or_by_the_end_of_the_loop_turn() -> None:
    loop = asyncio.get_running_loop()
    inner = Transport()
    one = OneWriteTransport(inner, loop)  # type: ignore[arg-type]
    one.write(b"unheld")
    one.hold_next_write()
    one.write(b"head|")
    assert inner.calls == [("write", b"unheld")]
    one.write(b"body")
    one.write(b"more")
    assert inner.calls[1:] == [("write", b"head|body"), ("write", b"more")]
    one.hold_next_write()  # a large first piece is not copied: one vectored write of both
    one.write(b"big head|")
    big = b"x" * (OneWriteTransport.COPY_LIMIT + 1)
    one.write(big)
    assert inner.calls.pop() == ("writelines", b"big head|" + big)
    one.hold_next_write()  # an answer without a body (HEAD): its head leaves by the end of the turn
    one.write(b"head only")
    await asyncio.sleep(0)
    assert inner.calls[3:] == [("write", b"head only")]
    one.hold_next_write()
    one.write(b"refused")
    one.write_eof()
    one.hold_next_write()
    one.write(b"closing")
    one.close()
    assert inner.calls[4:] == [("write", b"refused"), ("eof", b""), ("write", b"closing"), ("close", b"")]
    await asyncio.sleep(0)
    assert len(inner.calls) == 8  # nothing written twice
