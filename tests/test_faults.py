"""Real faults: an unexpected error is a bare 500 with the request ID only; a lost database is a 503."""

from __future__ import annotations

from urllib.parse import urlsplit

import asyncpg
from structlog.testing import capture_logs

from evacase.context import Context
from evacase.dispatch import Incoming, Runtime, dispatch
from evacase.messages import EmptyResponse, Message
from evacase.registry import Access, Registry
from tests.conftest import make_settings, serving
from tests.helpers import customer


class Explode(Message):
    pass


async def test_an_unexpected_error_is_a_generic_500_and_the_trace_goes_to_the_log(db_dsn: str) -> None:
    registry = Registry()

    @registry.operation(Access(), writes=True)
    async def explode(ctx: Context, req: Explode) -> EmptyResponse:
        await ctx.conn.execute("INSERT INTO users (id, user_type) VALUES (4242, 1)")
        raise RuntimeError("secret internals")

    async with serving(make_settings(db_dsn)) as api:
        rt: Runtime = api.client._transport.app.state.runtime  # type: ignore[attr-defined]
        test_rt = Runtime(rt.pool, rt.verifier, rt.page_tokens, registry)
        with capture_logs() as logs:
            outcome = await dispatch(test_rt, Incoming("Explode", b"{}", "req-1", customer(1)))
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
