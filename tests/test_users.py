"""Callers are recorded just in time from their token; a read path writes nothing once the profile is stored."""

from __future__ import annotations

import asyncpg
from structlog.testing import capture_logs

from evacase.auth import UserType
from tests.conftest import DatabaseFactory, make_settings, serving
from tests.helpers import Api, customer, token


async def user_row(db: asyncpg.Connection, user_id: int) -> dict[str, object]:
    row = await db.fetchrow(
        "SELECT xmin::text AS version, user_type, first_name, last_name, email_address, custom_id, backend_id"
        " FROM users WHERE id = $1",
        user_id,
    )
    return dict(row) if row else {}


async def test_the_first_call_records_the_caller_with_their_profile(api: Api, db: asyncpg.Connection) -> None:
    tok = token(
        31, UserType.EMPLOYEE, [], "Ada", "Lovelace", email="ada@shop.example", custom_id="E-31", backend_id="HR-31"
    )
    await api.ok("Ping", {}, tok)
    row = await user_row(db, 31)
    row.pop("version")
    assert row == {
        "user_type": 1,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email_address": "ada@shop.example",
        "custom_id": "E-31",
        "backend_id": "HR-31",
    }


async def test_reads_do_not_rewrite_an_unchanged_user(api: Api, db: asyncpg.Connection) -> None:
    await api.ok("Ping", {}, customer(32, "Ann", "Old"))
    first = await user_row(db, 32)
    for _ in range(3):
        await api.ok("ListCaseTopics", {}, customer(32, "Ann", "Old"))
    assert await user_row(db, 32) == first


async def test_a_new_process_meeting_a_known_unchanged_user_writes_nothing(
    api: Api, db: asyncpg.Connection, db_dsn: str, databases: DatabaseFactory
) -> None:
    await api.ok("Ping", {}, customer(35, "Ann", "Same"))
    await databases.settle()  # test databases being cloned or dropped meanwhile would take IDs too
    before = await db.fetchval("SELECT pg_current_xact_id()::text::bigint")
    async with serving(make_settings(db_dsn)) as fresh:  # another process: it has not seen user 35 yet
        await fresh.ok("ListCaseTopics", {}, customer(35, "Ann", "Same"))
        await fresh.ok("CustomerListCases", {}, customer(35, "Ann", "Same"))
    after = await db.fetchval("SELECT pg_current_xact_id()::text::bigint")
    assert after == before + 1  # only our own second call took a transaction ID: the requests wrote nothing


async def test_a_changed_name_in_the_token_updates_the_stored_user(api: Api, db: asyncpg.Connection) -> None:
    await api.ok("Ping", {}, customer(33, "Ann", "Old"))
    await api.ok("Ping", {}, customer(33, "Ann", "New"))
    row = await user_row(db, 33)
    assert (row["first_name"], row["last_name"]) == ("Ann", "New")


async def test_each_request_logs_one_line_with_service_user_status_duration_and_request_id(api: Api) -> None:
    with capture_logs() as logs:
        r = await api.call("ping", {}, customer(34), EVA_User_Agent="MyShop/1.2.3")
        failed = await api.call("Ping", {}, None)
    lines = [entry for entry in logs if entry["event"] == "request"]
    assert len(lines) == 2
    ok, refused = lines
    assert ok["duration_ms"] >= 0 and refused["duration_ms"] >= 0
    del ok["duration_ms"], refused["duration_ms"]
    assert ok == {
        "event": "request",
        "log_level": "info",
        "service": "Ping",
        "user_id": 34,
        "user_type": 2,
        "status": 200,
        "error_code": None,
        "request_id": r.headers["EVA-Request-ID"],
        "user_agent": "MyShop/1.2.3",
    }
    assert refused == {
        "event": "request",
        "log_level": "info",
        "service": "Ping",
        "user_id": None,
        "user_type": None,
        "status": 401,
        "error_code": "MissingToken",
        "request_id": failed.headers["EVA-Request-ID"],
        "user_agent": None,
    }
