"""The connection pool: asyncpg connections lent to one task at a time, first come first served.

asyncpg's own pool spends ~20 µs on a lend and a return (a proxy object, a shielded task and a timeout block on
every return, an idle timer armed and cancelled each time), about a tenth of a small read here, and it lets a
newcomer take a connection released for a task already waiting. Here a lend is a list pop and a return a list
append or a hand-over to the longest waiter; nothing on that path awaits, so a cancelled task can never leave a
connection half returned.

What a return does with the connection:
- closed (terminated by dispatch when its state was in doubt, or dropped by the server): forgotten; a waiter
  gets a new connection opened for it;
- still in a transaction (a task cancelled between BEGIN and COMMIT): terminated, the server rolls it back;
- of an older generation (`expire_connections`, after a connection failure): closed;
- otherwise: handed to the longest waiter, else kept idle (the most recently used first, so that connections
  beyond `min_size` fall idle and are closed after `max_idle` seconds).

A returned connection is not reset (asyncpg's pool would send `SELECT pg_advisory_unlock_all(); CLOSE ALL;
UNLISTEN *; RESET ALL`, a round trip that cost ~20% of a read): evacase sets no session state (no SET but SET
LOCAL, which ends with its transaction; no LISTEN, cursors or session advisory locks on pooled connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import asyncpg

Connect = Callable[[], Awaitable[asyncpg.Connection]]


class Pool:
    def __init__(self, connect: Connect, min_size: int = 2, max_size: int = 10, max_idle: float = 300.0) -> None:
        if not 0 <= min_size <= max_size or max_size < 1:
            raise ValueError("the pool needs 0 <= min_size <= max_size and max_size >= 1")
        self._connect = connect
        self._min_size = min_size
        self._max_size = max_size
        self._max_idle = max_idle
        self._idle: deque[tuple[asyncpg.Connection, float]] = deque()  # (connection, idle since); newest right
        self._waiters: deque[asyncio.Future[asyncpg.Connection]] = deque()
        self._lent: set[asyncpg.Connection] = set()
        self._generation_of: dict[asyncpg.Connection, int] = {}
        self._generation = 0
        self._size = 0  # connections open or being opened
        self._opening = 0  # of which being opened for waiters
        self._closing = False
        self._returned = asyncio.Event()  # set when a lent connection comes back while closing
        self._background: set[asyncio.Task[None]] = set()
        self._cull_timer: asyncio.TimerHandle | None = None

    async def open(self) -> Pool:
        """Open `min_size` connections (the first failure is raised, with every connection closed)."""
        try:
            for _ in range(self._min_size):
                self._size += 1
                try:
                    conn = await self._open()
                except BaseException:
                    self._size -= 1
                    raise
                self._idle.append((conn, time.monotonic()))
        except BaseException:
            self.terminate()
            raise
        return self

    # --- lending ---------------------------------------------------------------------------------------------

    def acquire(self, timeout: float | None = None) -> Lease:
        """`async with pool.acquire() as conn:` a connection for the block; `timeout` bounds the wait for it."""
        return Lease(self, timeout)

    async def take(self, within: float | None = None) -> asyncpg.Connection:
        """A connection, lent until `release`: an idle one, a new one while the pool is below its size, else the
        next one returned, in the order of asking; `within` bounds the wait in seconds (TimeoutError)."""
        if self._closing:
            raise asyncpg.InterfaceError("pool is closing")
        if self._idle:
            conn = self._idle.pop()[0]
            self._lent.add(conn)
            return conn
        if self._size < self._max_size:
            self._size += 1
            try:
                conn = await (self._open() if within is None else asyncio.wait_for(self._open(), within))
            except BaseException:
                self._size -= 1
                self._serve_waiters()  # someone may have queued behind this opening
                raise
            self._lent.add(conn)
            return conn
        waiter: asyncio.Future[asyncpg.Connection] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            if within is None:
                return await waiter
            async with asyncio.timeout(within):
                return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release(waiter.result())  # handed over as this task was cancelled: pass it on
            else:
                waiter.cancel()  # skipped at the next hand-over
            raise

    def release(self, conn: asyncpg.Connection) -> None:
        """Take back a lent connection (never awaits: safe in a cancelled task's cleanup)."""
        if conn not in self._lent:
            return  # released twice, or lent before a terminate()
        self._lent.discard(conn)
        if self._closing:
            self._returned.set()  # close() is waiting for the lent connections
        if conn.is_closed():
            self._forget(conn)
        elif conn.is_in_transaction():
            conn.terminate()  # the server rolls the transaction back
            self._forget(conn)
        elif self._closing or self._generation_of.get(conn) != self._generation:
            self._retire(conn)
        else:
            self._hand_over(conn)

    def _hand_over(self, conn: asyncpg.Connection) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._lent.add(conn)
                waiter.set_result(conn)
                return
        now = time.monotonic()
        self._idle.append((conn, now))
        if self._cull_timer is None and self._size > self._min_size and self._max_idle > 0:
            self._cull_timer = asyncio.get_running_loop().call_later(self._max_idle, self._cull)

    # --- opening and closing ---------------------------------------------------------------------------------

    async def _open(self) -> asyncpg.Connection:
        conn = await self._connect()
        self._generation_of[conn] = self._generation
        return conn

    def _forget(self, conn: asyncpg.Connection) -> None:
        """`conn` is gone: a waiter gets a connection opened for it in its place."""
        self._generation_of.pop(conn, None)
        self._size -= 1
        self._serve_waiters()

    def _serve_waiters(self) -> None:
        """Open connections for waiters that no lent connection will serve: one per waiter, while the pool has
        room (a freed place is otherwise lost to them: nothing else wakes a waiter but a return)."""
        while not self._closing and self._size < self._max_size and self.waiting() > self._opening:
            self._size += 1
            self._opening += 1
            self._in_background(self._open_for_waiter())

    def _retire(self, conn: asyncpg.Connection) -> None:
        """Close a healthy connection the pool no longer keeps (in the background; terminated if that fails)."""
        self._forget(conn)
        self._in_background(_close(conn))

    async def _open_for_waiter(self) -> None:
        try:
            conn = await self._open()
        except Exception as exc:
            self._opening -= 1
            self._size -= 1
            while self._waiters:  # the next in line learns why (the database is likely unreachable)
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_exception(exc)
                    break
            self._serve_waiters()  # each further waiter gets an attempt of its own
            return
        except BaseException:  # cancelled: the pool is closing
            self._opening -= 1
            self._size -= 1
            raise
        self._opening -= 1
        if self._closing:
            self._size -= 1
            conn.terminate()
            return
        self._hand_over(conn)

    def _in_background(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _cull(self) -> None:
        """Close connections idle longer than `max_idle` while the pool holds more than `min_size`."""
        self._cull_timer = None
        limit = time.monotonic() - self._max_idle
        while self._idle and self._size > self._min_size and self._idle[0][1] <= limit:
            self._retire(self._idle.popleft()[0])
        if self._idle and self._size > self._min_size:
            wait = self._idle[0][1] + self._max_idle - time.monotonic()
            self._cull_timer = asyncio.get_running_loop().call_later(max(wait, 0.01), self._cull)

    async def expire_connections(self) -> None:
        """After a connection failure: close the idle connections (their siblings broke, they likely did too)
        and every lent one when it comes back; new connections replace them."""
        self._generation += 1
        while self._idle:
            conn = self._idle.pop()[0]
            conn.terminate()
            self._forget(conn)

    async def close(self, grace: float | None = None) -> None:
        """Refuse new lends, close the idle connections, wait for the lent ones to come back (at most `grace`
        seconds; then they are terminated) and close them."""
        self._closing = True
        if self._cull_timer is not None:
            self._cull_timer.cancel()
            self._cull_timer = None
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(asyncpg.InterfaceError("pool is closing"))
        while self._idle:
            self._retire(self._idle.pop()[0])
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                while self._lent:
                    self._returned.clear()
                    await self._returned.wait()
        self.terminate()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def terminate(self) -> None:
        """Close every connection at once, lent ones included."""
        self._closing = True
        for conn in [*self._lent, *(c for c, _ in self._idle)]:
            conn.terminate()
            self._generation_of.pop(conn, None)
        self._size -= len(self._lent) + len(self._idle)
        self._lent.clear()
        self._idle.clear()

    # --- figures ---------------------------------------------------------------------------------------------

    def get_size(self) -> int:
        return self._size

    def get_idle_size(self) -> int:
        return len(self._idle)

    def get_min_size(self) -> int:
        return self._min_size

    def get_max_size(self) -> int:
        return self._max_size

    def waiting(self) -> int:
        """Tasks waiting for a connection."""
        return sum(1 for w in self._waiters if not w.done())


class Lease:
    """`async with pool.acquire(timeout) as conn`: the connection for the block, returned at its end."""

    __slots__ = ("_conn", "_pool", "_timeout")

    def __init__(self, pool: Pool, timeout: float | None) -> None:
        self._pool = pool
        self._timeout = timeout
        self._conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        self._conn = await self._pool.take(self._timeout)
        return self._conn

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._pool.release(conn)


async def _close(conn: asyncpg.Connection) -> None:
    """Close `conn` politely, else at once."""
    try:
        await conn.close(timeout=5)
    except (Exception, asyncio.CancelledError):
        conn.terminate()


async def create_pool(
    dsn: str, min_size: int = 2, max_size: int = 10, max_idle: float = 300.0, **connect_kwargs: Any
) -> Pool:
    """A pool of connections made by `asyncpg.connect(dsn, **connect_kwargs)`, with `min_size` of them opened."""

    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(dsn, **connect_kwargs)

    return await Pool(connect, min_size, max_size, max_idle).open()
