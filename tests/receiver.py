"""A local receiver of event deliveries for the tests: an HTTP/1.1 server on loopback that records every request,
answers with the statuses it is told (200 by default), and can be slow or hang."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float
    status: int

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 200
    delay: float = 0.0
    hang: bool = False
    received: list[Received] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=dict)
    overlaps: int = 0  # deliveries of one event that overlapped in time
    url: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # a request came in
    abandoned: asyncio.Event = field(default_factory=asyncio.Event)  # a held request's client went away

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 1)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        uid = ""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")[1:]
            headers = {}
            for line in lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip()] = value.strip()
            length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
            body = await reader.readexactly(length)
            uid = next((v for k, v in headers.items() if k.lower() == "x-eva-event-uid"), "")
            self.in_flight[uid] = self.in_flight.get(uid, 0) + 1
            if self.in_flight[uid] > 1:
                self.overlaps += 1
            self.arrived.set()
            if self.hang:  # held until the client gives up: nothing recorded
                await reader.read(1)
                self.abandoned.set()
                return
            await asyncio.sleep(self.delay)
            status = self.statuses.pop(0) if self.statuses else 200
            self.received.append(Received(headers, body, time.monotonic(), status))
            writer.write(f"HTTP/1.1 {status} Answer\r\nContent-Length: 8\r\nConnection: close\r\n\r\nreceived".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if uid:
                self.in_flight[uid] -= 1
            writer.close()

    def delivered(self) -> list[Received]:
        """The deliveries answered 2xx, in the order they arrived."""
        return [r for r in self.received if 200 <= r.status < 300]

    async def wait_for(self, count: int, seconds: float = 15.0) -> list[Received]:
        """The first `count` successful deliveries, once they have arrived."""
        deadline = time.monotonic() + seconds
        while len(self.delivered()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.delivered())} deliveries arrived, {count} expected")
            await asyncio.sleep(0.02)
        return self.delivered()[:count]
