"""The connection pool (evacase/pool.py) against the real PostgreSQL: lending order, waiting in line, timeouts,
cancellation at every point, broken, expired and mid-transaction connections, idle culling and closing."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evacase.pool import Pool, create_pool


@contextlib.asynccontextmanager
async def pool_of(dsn: str, min_size: int = 0, max_size: int = 2, max_idle: float = 300.0) -> AsyncIterator[Pool]:
    """A pool whose connections carry an application name of their own (to count them on the server)."""
    name = "pool-test-" + uuid.uuid4().hex[:12]
    pool = await create_pool(dsn, min_size, max_size, max_idle, server_settings={"application_name": name})
    pool.name = name  # type: ignore[attr-defined]
    try:
        yield pool
    finally:
        await pool.close(grace=5)


async def server_count(dsn: str, pool: Pool) -> int:
    """The pool's connections as the server sees them."""
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                pool.name,  # type: ignore[attr-defined]
            )
        )
    finally:
        await conn.close()


async def settled(dsn: str, pool: Pool, expected: int) -> int:
    """The server's count once closes under way have landed (a closed backend leaves pg_stat_activity shortly)."""
    for _ in range(100):
        count = await server_count(dsn, pool)
        if count == expected:
            return count
        await asyncio.sleep(0.02)
    return await server_count(dsn, pool)


async def test_opens_min_size_and_lends_the_most_recently_returned_first(db_dsn: str) -> None:
    async with pool_of(db_dsn, min_size=2, max_size=3) as pool:
        assert (pool.get_size(), pool.get_idle_size(), pool.get_min_size(), pool.get_max_size()) == (2, 2, 2, 3)
        a = await pool.take()
        b = await pool.take()
        assert a is not b and pool.get_idle_size() == 0
        pool.release(a)
        pool.release(b)
        assert await pool.take() is b
        assert await pool.take() is a
        c = await pool.take()  # a third: opened, the pool being below its size
        assert pool.get_size() == 3 and c not in (a, b)
        assert await c.fetchval("SELECT 1") == 1
        for conn in (a, b, c):
            pool.release(conn)
        assert (pool.get_size(), pool.get_idle_size(), pool.waiting()) == (3, 3, 0)
        assert await server_count(db_dsn, pool) == 3


async def test_waiters_are_served_in_the_order_they_asked_and_a_newcomer_queues_behind_them(db_dsn: str) -> None:
    async with pool_of(db_dsn, max_size=1) as pool:
        held = await pool.take()
        served: list[str] = []

        async def ask(name: str) -> None:
            async with pool.acquire() as conn:
                served.append(name)
                await conn.fetchval("SELECT 1")

        first = asyncio.ensure_future(ask("first"))
        await asyncio.sleep(0.01)
        second = asyncio.ensure_future(ask("second"))
        await asyncio.sleep(0.01)
        assert pool.waiting() == 2
        pool.release(held)
        # Handed to "first" at once: a newcomer asking now finds nothing idle and waits behind "second".
        assert pool.get_idle_size() == 0
        newcomer = asyncio.ensure_future(ask("newcomer"))
        await asyncio.gather(first, second, newcomer)
        assert served == ["first", "second", "newcomer"]
        assert (pool.get_size(), pool.get_idle_size(), pool.waiting()) == (1, 1, 0)


async def test_a_wait_past_its_bound_raises_and_leaves_no_trace(db_dsn: str) -> None:
    async with pool_of(db_dsn, max_size=1) as pool:
        held = await pool.take()
        with pytest.raises(TimeoutError):
            async with pool.acquire(timeout=0.05):
                raise AssertionError("never lent")
        assert pool.waiting() == 0
        pool.release(held)  # goes idle: the timed-out waiter is not served
        assert (pool.get_size(), pool.get_idle_size()) == (1, 1)
        async with pool.acquire(timeout=1) as conn:
            assert conn is held


async def test_a_waiter_cancelled_as_it_is_served_passes_the_connection_on(db_dsn: str) -> None:
    async with pool_of(db_dsn, max_size=1) as pool:
        held = await pool.take()
        cancelled = asyncio.ensure_future(pool.take())
        after = asyncio.ensure_future(pool.take())
        await asyncio.sleep(0.01)
        pool.release(held)  # handed to `cancelled`, which has not run since
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        assert await asyncio.wait_for(after, 1) is held
        pool.release(held)
        assert (pool.get_size(), pool.get_idle_size(), pool.waiting()) == (1, 1, 0)


async def test_a_connection_returned_inside_a_transaction_is_terminated_and_its_work_undone(db_dsn: str) -> None:
    async with pool_of(db_dsn, max_size=1) as pool:
        conn = await pool.take()
        await conn.execute("BEGIN")
        await conn.execute("CREATE TABLE pool_probe (id int)")
        pool.release(conn)
        assert conn.is_closed() and pool.get_size() == 0
        async with pool.acquire() as fresh:
            assert fresh is not conn
            assert await fresh.fetchval("SELECT to_regclass('pool_probe')") is None
        assert await settled(db_dsn, pool, 1) == 1


async def test_a_waiter_gets_a_new_connection_when_a_broken_one_comes_back(db_dsn: str) -> None:
    async with pool_of(db_dsn, max_size=1) as pool:
        held = await pool.take()
        waiter = asyncio.ensure_future(pool.take())
        await asyncio.sleep(0.01)
        held.terminate()  # as dispatch does with a connection in doubt
        pool.release(held)
        fresh = await asyncio.wait_for(waiter, 5)
        assert fresh is not held and await fresh.fetchval("SELECT 2") == 2
        pool.release(fresh)
        assert (pool.get_size(), pool.get_idle_size()) == (1, 1)


async def test_a_waiter_learns_why_no_connection_could_be_opened(db_dsn: str) -> None:
    async with pool_of(db_dsn, max_size=1) as pool:
        held = await pool.take()
        waiter = asyncio.ensure_future(pool.take())
        await asyncio.sleep(0.01)
        failing = OSError("connection refused")

        async def refuse() -> asyncpg.Connection:
            raise failing

        pool._connect = refuse  # the server went away: every new connection fails
        held.terminate()
        pool.release(held)
        with pytest.raises(OSError) as raised:
            await asyncio.wait_for(waiter, 5)
        assert raised.value is failing
        assert (pool.get_size(), pool.waiting()) == (0, 0)


async def test_a_waiter_queued_behind_an_opening_that_fails_gets_a_connection_of_its_own(db_dsn: str) -> None:
    async with pool_of(db_dsn, max_size=1) as pool:
        opener = asyncio.ensure_future(pool.take())  # the pool is empty: this one opens the only connection
        await asyncio.sleep(0)
        waiter = asyncio.ensure_future(pool.take())  # no room: waits for a return
        await asyncio.sleep(0)
        assert pool.waiting() == 1
        opener.cancel()  # the opening is abandoned: nothing will ever be returned
        with pytest.raises(asyncio.CancelledError):
            await opener
        conn = await asyncio.wait_for(waiter, 5)
        assert await conn.fetchval("SELECT 4") == 4
        pool.release(conn)
        assert (pool.get_size(), pool.get_idle_size(), pool.waiting()) == (1, 1, 0)


async def test_expired_connections_are_replaced(db_dsn: str) -> None:
    async with pool_of(db_dsn, min_size=2, max_size=2) as pool:
        lent = await pool.take()
        pids = {lent.get_server_pid()}
        await pool.expire_connections()  # the idle one is closed now, the lent one when it comes back
        assert (pool.get_size(), pool.get_idle_size()) == (1, 0)
        pool.release(lent)
        assert pool.get_size() == 0
        async with pool.acquire() as conn:
            assert conn.get_server_pid() not in pids
        assert await settled(db_dsn, pool, 1) == 1


async def test_connections_idle_past_the_limit_are_closed_down_to_min_size(db_dsn: str) -> None:
    async with pool_of(db_dsn, min_size=1, max_size=3, max_idle=0.2) as pool:
        conns = [await pool.take() for _ in range(3)]
        for conn in conns:
            pool.release(conn)
        assert pool.get_size() == 3
        await asyncio.sleep(0.5)
        assert (pool.get_size(), pool.get_idle_size()) == (1, 1)
        assert await settled(db_dsn, pool, 1) == 1
        async with pool.acquire() as conn:  # the one kept is the most recently used
            assert conn is conns[-1]


async def test_close_waits_for_lent_connections_then_refuses(db_dsn: str) -> None:
    async with pool_of(db_dsn, min_size=1, max_size=2) as pool:
        lent = await pool.take()
        waiter_pool_full = await pool.take()
        waiter = asyncio.ensure_future(pool.take())
        await asyncio.sleep(0.01)
        closing = asyncio.ensure_future(pool.close(grace=5))
        with pytest.raises(asyncpg.InterfaceError, match="pool is closing"):
            await waiter
        await asyncio.sleep(0.05)
        assert not closing.done()  # two connections still lent
        assert await lent.fetchval("SELECT 3") == 3
        pool.release(lent)
        pool.release(waiter_pool_full)
        await asyncio.wait_for(closing, 5)
        assert pool.get_size() == 0 and lent.is_closed()
        with pytest.raises(asyncpg.InterfaceError, match="pool is closing"):
            await pool.take()
        assert await settled(db_dsn, pool, 0) == 0


async def test_close_terminates_what_is_not_returned_within_the_grace(db_dsn: str) -> None:
    async with pool_of(db_dsn, max_size=1) as pool:
        lent = await pool.take()
        await asyncio.wait_for(pool.close(grace=0.05), 2)
        assert lent.is_closed() and pool.get_size() == 0
        pool.release(lent)  # late: ignored
        assert pool.get_size() == 0


# --- any schedule of lends, returns, timeouts and cancellations ------------------------------------------------

step = st.tuples(
    st.sampled_from(["use", "hold", "cancel", "timeout", "break", "transaction"]),
    st.integers(min_value=0, max_value=3),  # milliseconds of work while holding the connection
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(step, min_size=1, max_size=12), max_size=st.integers(min_value=1, max_value=3))
async def test_any_schedule_keeps_the_pool_whole(db_dsn: str, plan: list[tuple[str, int]], max_size: int) -> None:
    """However tasks use, cancel, time out or break their connections, no more than max_size are ever lent,
    every task that is not cancelled or timed out gets one, and afterwards every open connection is idle and
    the server sees exactly those."""
    async with pool_of(db_dsn, max_size=max_size) as pool:
        lent_now = 0
        most = 0

        async def task(kind: str, ms: int) -> str:
            nonlocal lent_now, most
            async with pool.acquire(timeout=0.001 if kind == "timeout" else None) as conn:
                lent_now += 1
                most = max(most, lent_now)
                try:
                    if kind == "break":
                        conn.terminate()
                    elif kind == "transaction":
                        await conn.execute("BEGIN")
                        await conn.fetchval("SELECT 1")
                    else:
                        await conn.fetchval("SELECT pg_sleep($1)", ms / 1000)
                finally:
                    lent_now -= 1
            return kind

        tasks = [asyncio.ensure_future(task(kind, ms)) for kind, ms in plan]
        await asyncio.sleep(0)
        for (kind, _), t in zip(plan, tasks, strict=True):
            if kind == "cancel":
                t.cancel()
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 20)  # never hangs
        for (kind, _), result in zip(plan, results, strict=True):
            if kind == "cancel":
                assert isinstance(result, asyncio.CancelledError) or result == "cancel"
            elif kind == "timeout":
                assert isinstance(result, TimeoutError) or result == "timeout"
            else:
                assert result == kind
        assert most <= max_size
        assert pool.waiting() == 0
        for _ in range(200):  # a connection opened for a waiter served meanwhile by a return lands idle
            if pool.get_idle_size() == pool.get_size():
                break
            await asyncio.sleep(0.01)
        assert pool.get_idle_size() == pool.get_size() <= max_size
        assert await settled(db_dsn, pool, pool.get_size()) == pool.get_size()
        async with pool.acquire(timeout=2) as conn:
            assert await conn.fetchval("SELECT 1") == 1
