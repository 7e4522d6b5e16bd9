"""Real faults: an unexpected error is a bare 500 with the request ID only; a lost database is a 503."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import pytest
from structlog.testing import capture_logs

from evacase.context import Context
from evacase.db import ClientDataError, bounded_settings, is_connection_failure
from evacase.dispatch import Incoming, dispatch
from evacase.messages import EmptyResponse, Message
from evacase.registry import Access, Registry
from evacase.runtime import running
from tests.conftest import make_settings, serving
from tests.helpers import Api, customer, employee


class Explode(Message):
    pass


async def test_an_unexpected_error_is_a_generic_500_and_the_trace_goes_to_the_log(db_dsn: str) -> None:
    registry = Registry()

    @registry.operation(Access(), writes=True)
    async def explode(ctx: Context, req: Explode) -> EmptyResponse:
        await ctx.conn.execute("INSERT INTO users (id, user_type) VALUES (4242, 1)")
        raise RuntimeError("secret internals")

    async with running(make_settings(db_dsn), registry) as rt:
        with capture_logs() as logs:
            outcome = await dispatch(rt, Incoming("Explode", b"{}", "req-1", customer(1)))
        assert outcome.status == 500
        assert outcome.body == (
            b'{"Error":{"Code":"InternalServerError","Type":"InternalServerError","Message":"An unexpected error'
            b' occurred. Quote the RequestID when asking for support.","RequestID":"req-1"}}'
        )
        assert [e["exc_info"] for e in logs if e["event"] == "unhandled_error"] == [True]
        async with rt.pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM users WHERE id = 4242") == 0  # rolled back


async def test_health_and_services_answer_503_when_the_database_is_gone(pg_admin_dsn: str, db_dsn: str) -> None:
    async with serving(make_settings(db_dsn)) as api:
        assert (await api.client.get("/health")).status_code == 200
        admin = await asyncpg.connect(pg_admin_dsn)
        try:
            name = urlsplit(db_dsn).path.lstrip("/")
            await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        finally:
            await admin.close()
        r = await api.client.get("/health")
        assert (r.status_code, r.json()) == (503, {"Status": "DatabaseUnavailable"})
        r = await api.call("ListCaseTopics", {}, customer(1))
        assert r.status_code == 503
        assert r.json()["Error"]["Type"] == "ServiceUnavailable"
        # A blob's Url too: a download and an upload answer 503 with Retry-After, never a 500.
        for r in (
            await api.client.get(f"/blob/{uuid.uuid4()}"),
            await api.client.post(
                f"/blob/{uuid.uuid4()}", content=b"%PDF-", headers={"Authorization": f"Bearer {AGENT}"}
            ),
        ):
            assert (r.status_code, r.json()["Error"]["Type"], r.headers["retry-after"]) == (
                503,
                "ServiceUnavailable",
                "1",
            )


# --- issue 11: bounded waits and dropped connections (defects 3 and 4) -----------------------------------


AGENT = employee(30, ["Cases"])


async def held_case(api: Api) -> int:
    body = {"Title": "Broken zipper", "Description": "It broke.", "TopicID": 1}
    case_id: int = (await api.ok("CreateCase", body, AGENT))["ID"]
    return case_id


@contextlib.asynccontextmanager
async def case_locked_elsewhere(db_dsn: str, case_id: int) -> AsyncIterator[asyncpg.Connection]:
    """Case `case_id` row-locked by another connection (an agent's long transaction) until the block ends."""
    holder = await asyncpg.connect(db_dsn)
    try:
        async with holder.transaction():
            await holder.execute("SELECT 1 FROM cases WHERE id = $1 FOR UPDATE", case_id)
            yield holder
    finally:
        await holder.close()


async def test_a_lock_held_past_the_timeout_is_a_503_with_retry_after_and_the_server_stops_waiting(
    db_dsn: str, db: asyncpg.Connection
) -> None:
    async with serving(make_settings(db_dsn, db_timeout=0.5)) as api:
        case_id = await held_case(api)
        async with case_locked_elsewhere(db_dsn, case_id) as holder:
            started = time.monotonic()
            r = await api.call("UpdateCaseSummary", {"ID": case_id, "Summary": "Waiting"}, AGENT)
            waited = time.monotonic() - started
            # Nothing of the request is left waiting in PostgreSQL (its backend was cancelled or closed): the
            # server processes the cancel on its own time, so it is looked for for up to two seconds.
            for _ in range(40):
                waiting = await holder.fetchval(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if waiting == 0:
                    break
                await asyncio.sleep(0.05)
        assert (r.status_code, r.headers["Retry-After"], r.json()["Error"]["Code"]) == (503, "1", "DatabaseTimeout")
        assert r.json()["Error"]["Message"] == "The database did not answer within 0.5 seconds; try again shortly."
        assert 0.4 < waited < 3, waited
        assert waiting == 0
        # Once the lock is gone the same request goes through, on a healthy pool.
        await api.ok("UpdateCaseSummary", {"ID": case_id, "Summary": "Waiting"}, AGENT)
    assert await db.fetchval("SELECT summary FROM cases WHERE id = $1", case_id) == "Waiting"


async def test_requests_queued_behind_a_stuck_pool_are_answered_503_in_bounded_time(
    db_dsn: str, db: asyncpg.Connection
) -> None:
    async with serving(make_settings(db_dsn, db_timeout=0.5, pool_max_size=1)) as api:
        case_id = await held_case(api)
        async with case_locked_elsewhere(db_dsn, case_id):
            started = time.monotonic()
            stuck, queued = await asyncio.gather(
                api.call("UpdateCaseSummary", {"ID": case_id, "Summary": "x"}, AGENT),
                api.call("ListCaseTopics", {}, customer(31)),
            )
            waited = time.monotonic() - started
        # The stuck request is cut off at its deadline; the one queued behind it is answered within its own,
        # with a 503 or, once the stuck one let go of the connection, a 200.
        assert stuck.status_code == 503 and queued.status_code in (200, 503)
        assert waited < 3, waited
        assert (await api.call("ListCaseTopics", {}, customer(31))).status_code == 200


async def terminate_app_connections(admin_dsn: str, database: str, spare: int = 0) -> int:
    """Terminate the app's connections to `database` (not the backend `spare`, the test's own), as a failover
    or an operator's pg_terminate_backend would. Client backends of the test's role only: an autovacuum worker on
    the database may not be terminated by it, nor a connection still logging in (the pool reconnecting): it has no
    role yet, and PostgreSQL treats it as a superuser's."""
    admin = await asyncpg.connect(admin_dsn)
    try:
        killed: int = await admin.fetchval(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = $1 AND backend_type = 'client backend' AND usename = current_user"
            " AND pid <> pg_backend_pid() AND pid <> $2",
            database,
            spare,
        )
        return killed
    finally:
        await admin.close()


async def test_reads_and_unsent_writes_survive_terminated_connections(pg_admin_dsn: str, db_dsn: str) -> None:
    database = urlsplit(db_dsn).path.lstrip("/")
    async with serving(make_settings(db_dsn, pool_min_size=4, pool_max_size=4)) as api:
        case_id = await held_case(api)
        for _ in range(3):
            assert await terminate_app_connections(pg_admin_dsn, database) >= 1
            # Every pooled connection is dead; each request finds out on its first statement, before anything
            # could have been committed, and runs again on a fresh connection.
            view = await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
            assert view["ID"] == case_id
            await terminate_app_connections(pg_admin_dsn, database)
            await api.ok("UpdateCaseSummary", {"ID": case_id, "Summary": f"s{_}"}, AGENT)


async def test_connections_dropped_under_load_never_give_a_500(
    pg_admin_dsn: str, db_dsn: str, db: asyncpg.Connection
) -> None:
    database = urlsplit(db_dsn).path.lstrip("/")
    async with serving(make_settings(db_dsn, pool_min_size=4, pool_max_size=8)) as api:
        case_id = await held_case(api)
        statuses: list[int] = []
        created: list[int] = []

        async def customer_load(n: int) -> None:
            tok = customer(100 + n % 5)
            for i in range(15):
                r = await api.call(
                    "CustomerCreateCase", {"Title": f"Case {n}/{i}", "Description": "d", "TopicID": 1}, tok
                )
                statuses.append(r.status_code)
                if r.status_code == 200:
                    created.append(r.json()["ID"])
                statuses.append((await api.call("CustomerListCases", {}, tok)).status_code)
                statuses.append((await api.call("GetCaseByID", {"ID": case_id}, AGENT)).status_code)

        async def killer() -> None:
            for _ in range(5):
                await asyncio.sleep(0.05)
                await terminate_app_connections(pg_admin_dsn, database, db.get_server_pid())

        await asyncio.gather(killer(), *(customer_load(n) for n in range(8)))
    assert set(statuses) <= {200, 503}, sorted(set(statuses))
    assert statuses.count(200) > len(statuses) // 2
    # Every acknowledged create exists, exactly once.
    stored = await db.fetch("SELECT id FROM cases WHERE id = ANY ($1::bigint[])", created)
    assert len(stored) == len(created) == len(set(created))


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        ConnectionResetError(),
        asyncpg.InterfaceError("cannot call Connection.fetch(): connection has been released back to the pool"),
    ],
)
def test_every_connection_level_failure_counts_as_one(exc: BaseException) -> None:
    assert is_connection_failure(exc)


def test_a_value_asyncpg_cannot_encode_is_not_a_connection_failure() -> None:
    assert not is_connection_failure(ClientDataError("invalid input for query argument $1"))
    assert not is_connection_failure(asyncpg.DataError("value too long"))  # the server's class 22


def test_evacase_never_changes_durability_settings() -> None:
    # A 200 means committed: evacase relies on the server's synchronous_commit (on by default) and never sets it,
    # fsync or full_page_writes on its connections.
    settings = bounded_settings(5.0)
    assert not {"synchronous_commit", "fsync", "full_page_writes", "commit_delay"} & set(settings)
    assert settings == {
        "enable_bitmapscan": "off",
        "plan_cache_mode": "force_generic_plan",
        "statement_timeout": "5000",
        "idle_in_transaction_session_timeout": "10000",
    }
