"""The HTTP server's own guards, below the app: uvicorn's httptools protocol with a header size limit and
deadlines for slow clients, and a server that stops answering /health with 200 before it drains.

uvicorn (0.3x, httptools) accepts headers of any size and waits forever for a client that sends its request a
byte at a time; its keep-alive timeout only covers the gap between requests. Here:
- a connection must start a request within `idle_timeout` seconds of opening (uvicorn's keep-alive timeout);
- a request must arrive whole (request line, headers and body) within `request_timeout` seconds of its first
  byte, else 408 and the connection closes;
- the request line and headers together may take at most `max_header_bytes`, else 431 and the connection
  closes (counted as they arrive, before httptools assembles a header in memory).
Both answers carry EVA's error body."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from evacase.config import Settings
from evacase.errors import EvaError, RequestHeaderFieldsTooLarge, RequestTimeout

MAX_HEADER_BYTES = 32 * 1024
REQUEST_TIMEOUT = 30.0
LINGER_SECONDS = 1.0  # after a refusal, how long the rest of the request is read and dropped


REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


@dataclass(frozen=True)
class Limits:
    max_header_bytes: int = MAX_HEADER_BYTES
    request_timeout: float = REQUEST_TIMEOUT


@cache
def limits_from_env() -> Limits:
    """The limits the settings give (read once per process: uvicorn's workers are separate processes)."""
    settings = Settings.from_env()
    return Limits(settings.max_header_bytes, settings.request_timeout)


class OneWriteTransport:
    """The connection's transport as uvicorn's protocol and its request cycles see it: a response's head is held
    back and written together with the first piece of its body, in one write (uvicorn writes them apart: two
    send system calls and two TCP segments for every small answer, each one read separately by the client).
    Everything else goes straight through; a held head goes out by the end of the event loop's turn at the
    latest (an answer to HEAD has no body to join), and before the transport closes."""

    __slots__ = ("_held", "_hold_next", "_loop", "_transport")
    COPY_LIMIT = 64 * 1024  # a first piece of body up to this size is joined to the head by copying

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._hold_next = False

    def hold_next_write(self) -> None:
        """The next write is a response's head: hold it for its body."""
        self._hold_next = True

    def write(self, data: bytes) -> None:
        if self._hold_next:
            self._hold_next = False
            self._flush()
            self._held = data
            self._loop.call_soon(self._flush)
            return
        held = self._held
        if held is not None:
            self._held = None
            if len(data) > self.COPY_LIMIT:
                self._transport.writelines((held, data))  # one vectored write, the body not copied
                return
            data = held + data  # copying a small body is cheaper than a vectored write's set-up
        self._transport.write(data)

    def writelines(self, chunks: Any) -> None:
        self._flush()
        self._transport.writelines(chunks)

    def _flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():
                self._transport.write(held)

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol with a header size limit and a deadline for receiving each request.

    Deadlines are checked by one sweep per server every SWEEP_SECONDS over its connections (a timer armed and
    cancelled per request would cost ~3 µs each); a request's deadline is thus kept to within that."""

    fixed_limits: Limits | None = None  # tests set their own; otherwise the settings'
    SWEEP_SECONDS = 0.25

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = self.fixed_limits or limits_from_env()
        self._started: float | None = None  # loop time of the first byte of a request still arriving
        self._raw_header_bytes = 0  # bytes received while the headers were incomplete
        self._chunk = 0  # the size of the chunk being parsed
        self._headers_done = False
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.one_write = OneWriteTransport(transport, self.loop)
        self.transport = self.one_write  # type: ignore[assignment]
        # A connection that never sends a byte is closed like an idle keep-alive one.
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)
        sweeps = _SWEEPS.setdefault(self.loop, set())
        if self.server_state not in sweeps:
            sweeps.add(self.server_state)
            self.loop.call_later(self.SWEEP_SECONDS, _sweep, self.loop, self.server_state)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._chunk = len(data)
        super().data_received(data)
        # Headers still incomplete after this chunk: all of it was request line and headers, held by httptools
        # until a header is whole. Counted here, so a huge header is refused as it arrives.
        if self._started is not None and not self._headers_done and not self._refused:
            self._raw_header_bytes += len(data)
            if self._raw_header_bytes > self.limits.max_header_bytes:
                self._refuse(self._too_large())

    def _too_large(self) -> RequestHeaderFieldsTooLarge:
        return RequestHeaderFieldsTooLarge(
            f"The request line and headers take more than {self.limits.max_header_bytes} bytes."
        )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._started = self.loop.time()
        self._headers_done = False
        self._raw_header_bytes = 0

    def on_headers_complete(self) -> None:
        self._headers_done = True
        # Headers that arrived whole within one chunk: counted only when that chunk could hold too many.
        if self._raw_header_bytes + self._chunk > self.limits.max_header_bytes:
            size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
            if size > self.limits.max_header_bytes:
                self._refuse(self._too_large())
                return
        super().on_headers_complete()
        # The cycle just made writes its head next, unless it first asks for the body (100 Continue) or waits
        # behind an earlier request of this connection (pipelined).
        if self.cycle is not None and not self.cycle.waiting_for_100_continue and not self.pipeline:
            self.one_write.hold_next_write()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._started = None
        if not self._refused:
            super().on_message_complete()

    def check_deadline(self, now: float) -> None:
        if self._started is not None and now - self._started > self.limits.request_timeout and not self._refused:
            self._refuse(RequestTimeout(f"The request did not arrive within {self.limits.request_timeout:g} seconds."))

    def _refuse(self, error: EvaError) -> None:
        """Answer `error` and close, unless the app has started a response (then only close)."""
        self._started, self._refused = None, True
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()
            return
        if self.cycle is not None:
            self.cycle.disconnected = True  # the app (if it runs) reads a disconnect, its answer goes nowhere
            self.cycle.message_event.set()
        request_id = os.urandom(16).hex()
        body = error.body(request_id)
        head = b"HTTP/1.1 %d %s\r\n" % (error.status, REASONS[error.status])
        self.transport.write(
            head
            + b"content-type: application/json\r\n"
            + b"content-length: %d\r\n" % len(body)
            + b"eva-request-id: "
            + request_id.encode()
            + b"\r\n"
            + b"connection: close\r\n\r\n"
            + body
        )
        # Close gently: end our side now, keep reading (and dropping) what the client still sends for a moment.
        # Closing a socket with unread input resets the connection, and the client would lose this answer.
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


# The servers (by their shared state) whose connections are swept, per event loop.
_SWEEPS: dict[asyncio.AbstractEventLoop, set[Any]] = {}


def _sweep(loop: asyncio.AbstractEventLoop, server_state: Any) -> None:
    """Refuse the requests past their deadline among the server's connections; again in SWEEP_SECONDS while it
    has connections (the next connection starts the sweeps again)."""
    if not server_state.connections or loop.is_closed():
        _SWEEPS.get(loop, set()).discard(server_state)
        return
    now = loop.time()
    for connection in list(server_state.connections):
        if isinstance(connection, GuardedHttpToolsProtocol):
            connection.check_deadline(now)
    loop.call_later(GuardedHttpToolsProtocol.SWEEP_SECONDS, _sweep, loop, server_state)


class DrainingServer(uvicorn.Server):
    """On SIGTERM/SIGINT, first stop being ready (GET /health answers 503 `ShuttingDown`) for `drain_delay`
    seconds while still serving, so load balancers take the instance out; then uvicorn's graceful shutdown
    (no new connections, in-flight requests finish within its timeout)."""

    def __init__(
        self, config: uvicorn.Config, drain_delay: float = 0.0, on_started: Callable[[], None] | None = None
    ) -> None:
        super().__init__(config)
        self.drain_delay = drain_delay
        self.on_started = on_started
        self._exit_at: float | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's start-up (the app's lifespan, then binding the port); `on_started` once it is bound."""
        await super().startup(sockets)
        if self.started and not self.should_exit and self.on_started is not None:
            self.on_started()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._exit_at is None and self.drain_delay > 0:
            self._captured_signals.append(sig)
            self._exit_at = time.monotonic() + self.drain_delay
            DRAINING.set()
            return
        DRAINING.set()
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._exit_at is not None and time.monotonic() >= self._exit_at:
            self.should_exit = True
        return await super().on_tick(counter)


# Set once the process starts shutting down; GET /health reads it (the server and the app share the process).
DRAINING = threading.Event()
