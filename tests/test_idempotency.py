"""Idempotency-Key: a retry replays the first answer and creates nothing; another request under the same key is a
409; concurrent requests with one key have one effect; keys are per caller and expire (issue 11)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from evacase.jobs.periodic import run_once
from evacase.jobs.purges import PURGE_IDEMPOTENCY_KEYS
from tests.conftest import make_settings, serving
from tests.dbstate import snapshot
from tests.helpers import Api, customer, employee, token

CUSTOMER = customer(20)
OTHER = customer(21)
AGENT = employee(22, ["Cases", "CaseStatuses", "CustomFields"])
INTEGRATOR = token(23, 2048, ["PushCases"])
CASE = {"Title": "Broken zipper", "Description": "It broke.", "TopicID": 1}


async def keyed(api: Api, service: str, body: dict[str, Any] | str, tok: str, key: str, **headers: str) -> Any:
    if isinstance(body, str):
        return await api.raw(service, body, tok, Idempotency_Key=key, **headers)
    return await api.call(service, body, tok, Idempotency_Key=key, **headers)


async def test_a_retry_replays_the_first_answer_exactly_and_creates_nothing(api: Api, db: asyncpg.Connection) -> None:
    first = await keyed(api, "CustomerCreateCase", CASE, CUSTOMER, "order-1")
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    after_first = await snapshot(db)
    # The same request, written differently (key order, spacing, an unknown field), is the same request.
    again = '{ "TopicID": 1, "Description": "It broke.", "Title": "Broken zipper", "Unknown": 1 }'
    retry = await keyed(api, "CustomerCreateCase", again, CUSTOMER, "order-1")
    assert (retry.status_code, retry.content, retry.headers["Idempotent-Replayed"]) == (200, first.content, "true")
    assert retry.headers["EVA-Request-ID"] != first.headers["EVA-Request-ID"]
    assert await snapshot(db) == after_first
    # With EVA's StringIDs mode the replay carries string IDs, like any answer.
    strings = await keyed(api, "CustomerCreateCase", CASE, CUSTOMER, "order-1", EVA_IDs_Mode="StringIDs")
    assert strings.json() == {"ID": str(first.json()["ID"])}


async def test_the_same_key_for_another_request_is_a_409_and_changes_nothing(api: Api, db: asyncpg.Connection) -> None:
    await keyed(api, "CustomerCreateCase", CASE, CUSTOMER, "k")
    before = await snapshot(db)
    for service, body in (
        ("CustomerCreateCase", {**CASE, "Title": "Another title"}),
        ("CustomerCreateCaseInteraction", {"CaseID": 1, "Text": "Hello"}),
    ):
        r = await keyed(api, service, body, CUSTOMER, "k")
        assert (r.status_code, r.json()["Error"]["Code"]) == (409, "Idempotency:KeyReusedWithDifferentRequest")
    assert await snapshot(db) == before


async def test_keys_belong_to_their_caller(api: Api, db: asyncpg.Connection) -> None:
    mine = (await keyed(api, "CustomerCreateCase", CASE, CUSTOMER, "shared")).json()
    theirs = (await keyed(api, "CustomerCreateCase", CASE, OTHER, "shared")).json()
    assert mine != theirs
    rows = await db.fetch("SELECT customer_id FROM cases ORDER BY id")
    assert [r["customer_id"] for r in rows] == [20, 21]


async def test_a_refused_request_leaves_no_answer_so_its_corrected_retry_runs(api: Api, db: asyncpg.Connection) -> None:
    refused = await keyed(api, "CustomerCreateCase", {**CASE, "TopicID": 999}, CUSTOMER, "fix-me")
    assert refused.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys") == 0
    ok = await keyed(api, "CustomerCreateCase", CASE, CUSTOMER, "fix-me")
    assert ok.status_code == 200
    assert await db.fetchval("SELECT count(*) FROM cases") == 1


async def test_ten_concurrent_requests_with_one_key_have_one_effect(db_dsn: str, db: asyncpg.Connection) -> None:
    async with serving(make_settings(db_dsn, pool_max_size=10)) as api:
        await api.ok("Ping", {}, CUSTOMER)
        answers = await asyncio.gather(*(keyed(api, "CustomerCreateCase", CASE, CUSTOMER, "burst") for _ in range(10)))
    allowed = {(200, None), (409, "Idempotency:RequestInProgress")}
    got = {(r.status_code, r.json().get("Error", {}).get("Code") if r.status_code != 200 else None) for r in answers}
    assert got <= allowed
    bodies = {r.content for r in answers if r.status_code == 200}
    assert len(bodies) == 1
    assert await db.fetchval("SELECT count(*) FROM cases") == 1
    assert (
        sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers)
        == len([r for r in answers if r.status_code == 200]) - 1
    )


@pytest.mark.parametrize(
    ("service", "body", "tok", "table"),
    [
        ("CustomerCreateCase", CASE, CUSTOMER, "cases"),
        ("CreateCase", CASE, AGENT, "cases"),
        ("CustomerCreateCaseInteraction", {"CaseID": 1, "Text": "Any news?"}, CUSTOMER, "interactions"),
        ("CreateCaseInteraction", {"CaseID": 1, "Text": "On it", "Type": 1}, AGENT, "interactions"),
        (
            "PushCase",
            {
                "BackendID": "P-1",
                "CaseTopic": {"Name": "Returns"},
                "Title": "Pushed case",
                "Description": "d",
                "Status": "New",
            },
            INTEGRATOR,
            "cases",
        ),
        ("CreateCaseStatus", {"Name": "Waiting"}, AGENT, "case_statuses"),
        ("CreateCustomField", {"Name": "Size", "DataType": 0}, AGENT, "custom_fields"),
    ],
)
async def test_every_creating_service_creates_once_per_key(
    api: Api, db: asyncpg.Connection, service: str, body: dict[str, Any], tok: str, table: str
) -> None:
    await api.ok("CustomerCreateCase", CASE, CUSTOMER)  # case 1, for the interactions
    await api.ok("Ping", {}, tok)
    before = await db.fetchval(f"SELECT count(*) FROM {table}")
    first = await keyed(api, service, body, tok, f"{service}-1")
    second = await keyed(api, service, body, tok, f"{service}-1")
    assert first.status_code == 200, first.text
    assert (second.status_code, second.content) == (200, first.content)
    assert await db.fetchval(f"SELECT count(*) FROM {table}") == before + 1


async def test_reads_ignore_the_key_and_bad_keys_are_refused(api: Api, db: asyncpg.Connection) -> None:
    listed = await keyed(api, "CustomerListCases", {}, CUSTOMER, "x" * 300)
    assert listed.status_code == 200
    for bad in ("x" * 256, "", "tab\there"):
        r = await keyed(api, "CustomerCreateCase", CASE, CUSTOMER, bad)
        assert (r.status_code, r.json()["Error"]["Code"]) == (400, "Idempotency:InvalidKey")
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys") == 0
    assert await db.fetchval("SELECT count(*) FROM cases") == 0


async def test_an_expired_key_is_a_new_key_and_the_purge_deletes_expired_ones(
    api: Api, db: asyncpg.Connection, db_dsn: str
) -> None:
    await keyed(api, "CustomerCreateCase", CASE, CUSTOMER, "old")
    await keyed(api, "CustomerCreateCase", CASE, CUSTOMER, "live")
    await db.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'old'")
    r = await keyed(api, "CustomerCreateCase", {**CASE, "Title": "A new request"}, CUSTOMER, "old")
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers
    assert await db.fetchval("SELECT count(*) FROM cases") == 3
    await db.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'old'")
    pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=2)
    try:
        # Another process running the purge holds its lock: this one skips the run.
        async with pool.acquire() as holder, holder.transaction():
            await holder.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('evacase.job' || chr(31) || $1, 0))",
                PURGE_IDEMPOTENCY_KEYS.name,
            )
            assert await run_once(pool, PURGE_IDEMPOTENCY_KEYS) is None
        assert await run_once(pool, PURGE_IDEMPOTENCY_KEYS) == 1
        assert await run_once(pool, PURGE_IDEMPOTENCY_KEYS) == 0  # idempotent
    finally:
        await pool.close()
    assert [r["key"] for r in await db.fetch("SELECT key FROM idempotency_keys")] == ["live"]


async def test_a_keyed_message_on_a_closed_case_is_refused_inside_the_keys_transaction(
    api: Api, db: asyncpg.Connection
) -> None:
    # The one-statement message's refusal takes the locked path in a savepoint of the key's transaction: the 409
    # leaves neither a message nor a stored answer, and the retry after reopening runs.
    case_id = (await keyed(api, "CustomerCreateCase", CASE, CUSTOMER, "case")).json()["ID"]
    await db.execute("UPDATE cases SET status_id = 3, closing_time = now() WHERE id = $1", case_id)
    body = {"CaseID": case_id, "Text": "Still broken"}
    refused = await keyed(api, "CustomerCreateCaseInteraction", body, CUSTOMER, "msg")
    assert (refused.status_code, refused.json()["Error"]["Code"]) == (409, "Case:CaseAlreadyClosed")
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'msg'") == 0
    await db.execute("UPDATE cases SET status_id = 2, closing_time = NULL WHERE id = $1", case_id)
    ok = await keyed(api, "CustomerCreateCaseInteraction", body, CUSTOMER, "msg")
    again = await keyed(api, "CustomerCreateCaseInteraction", body, CUSTOMER, "msg")
    assert (ok.status_code, again.content, again.headers["Idempotent-Replayed"]) == (200, ok.content, "true")
    count = await db.fetchval("SELECT count(*) FROM interactions WHERE case_id = $1 AND type = 0", case_id)
    assert count == 1
