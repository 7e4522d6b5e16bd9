"""Writes racing each other find the case whatever commits meanwhile, a case is in a closed status exactly when it
has a ClosingTime, and foreign-key races answer documented codes (issue 11, defects 2, 8, 9)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest

from evacase.db import translate_db_error
from tests.conftest import make_settings, serving
from tests.helpers import Api, customer, employee

AGENT = employee(90, ["Cases", "CaseStatuses"])
CUSTOMER_ID = 91
CUSTOMER = customer(CUSTOMER_ID)


async def customer_case(api: Api) -> int:
    body = {"Title": "Broken zipper", "Description": "It broke.", "TopicID": 1}
    case_id: int = (await api.ok("CustomerCreateCase", body, CUSTOMER))["ID"]
    return case_id


async def invariant_breaks(db: asyncpg.Connection) -> list[Any]:
    """Cases whose ClosingTime disagrees with their status."""
    rows = await db.fetch(
        "SELECT c.id, s.is_closed, c.closing_time FROM cases c JOIN case_statuses s ON s.id = c.status_id"
        " WHERE s.is_closed <> (c.closing_time IS NOT NULL)"
    )
    return [tuple(r) for r in rows]


async def message_while_the_case_is_held(
    api: Api, db_dsn: str, case_id: int, hold: str, then: Callable[[asyncpg.Connection], Awaitable[None]] | None = None
) -> httpx.Response:
    """The customer's message on a case another transaction holds (it ran `hold`); once the request waits for
    the row lock, that transaction runs `then` and commits. The request's answer."""
    body = {"CaseID": case_id, "Text": "Any news?"}
    return await call_while_the_case_is_held(
        api, db_dsn, case_id, hold, "CustomerCreateCaseInteraction", body, CUSTOMER, then
    )


async def call_while_the_case_is_held(
    api: Api,
    db_dsn: str,
    case_id: int,
    hold: str,
    service: str,
    body: dict[str, Any],
    token: str,
    then: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
) -> httpx.Response:
    """`service` called on a case another transaction holds (it ran `hold`); once the request waits for the row
    lock, that transaction runs `then` and commits. The request's answer."""
    agent = await asyncpg.connect(db_dsn)
    try:
        tx = agent.transaction()
        await tx.start()
        await agent.execute(hold, case_id)
        write = asyncio.ensure_future(api.call(service, body, token))
        await asyncio.sleep(0.3)  # the request now waits for the row lock, its snapshot taken
        assert not write.done()
        if then is not None:
            await then(agent)
        await tx.commit()
        return await asyncio.wait_for(write, 10)
    finally:
        await agent.close()


async def ledger_of(db: asyncpg.Connection, case_id: int, author: int) -> list[str]:
    rows = await db.fetch(
        "SELECT text FROM interactions WHERE case_id = $1 AND type = 2 AND created_by = $2 ORDER BY id", case_id, author
    )
    return [r["text"] for r in rows]


async def test_a_state_change_racing_another_is_decided_by_what_committed(
    api: Api, db: asyncpg.Connection, db_dsn: str
) -> None:
    # UpdateCaseState reads without a lock and writes only the version it read: another agent's move into the
    # same status commits while it waits, so it reads again under the lock and writes only the priority.
    case_id = await customer_case(api)
    await api.ok("GetCaseByID", {"ID": case_id}, AGENT)  # the agent is known: no user write, no transaction
    body = {"ID": case_id, "StatusID": 2, "Priority": 2}
    hold = "UPDATE cases SET status_id = 2 WHERE id = $1"
    r = await call_while_the_case_is_held(api, db_dsn, case_id, hold, "UpdateCaseState", body, AGENT)
    assert (r.status_code, r.json()) == (200, {"StatusAction": 0}), r.text
    assert await ledger_of(db, case_id, 90) == ["Case priority set to `High`"]
    row = await db.fetchrow("SELECT status_id, priority, last_modified_by FROM cases WHERE id = $1", case_id)
    assert tuple(row) == (2, 2, 90)


async def test_a_state_change_whose_case_was_only_locked_meanwhile_writes_what_it_read(
    api: Api, db: asyncpg.Connection, db_dsn: str
) -> None:
    case_id = await customer_case(api)
    await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    body = {"ID": case_id, "StatusID": 2}
    r = await call_while_the_case_is_held(
        api, db_dsn, case_id, "SELECT id FROM cases WHERE id = $1 FOR UPDATE", "UpdateCaseState", body, AGENT
    )
    assert (r.status_code, r.json()) == (200, {"StatusAction": 0}), r.text
    status_name = await db.fetchval("SELECT name FROM case_statuses WHERE id = 2")
    assert await ledger_of(db, case_id, 90) == [f"Case status set to `{status_name}`"]


async def test_a_message_waiting_on_a_status_change_finds_the_case(
    api: Api, db: asyncpg.Connection, db_dsn: str
) -> None:
    # Defect 2, deterministically: an agent's status change holds the case row while the customer writes.
    case_id = await customer_case(api)
    r = await message_while_the_case_is_held(api, db_dsn, case_id, "UPDATE cases SET status_id = 2 WHERE id = $1")
    assert r.status_code == 200, r.text
    assert await db.fetchval("SELECT count(*) FROM interactions WHERE case_id = $1 AND type = 0", case_id) == 1


@pytest.mark.parametrize(("closed", "status", "code"), [(False, 200, None), (True, 409, "Case:CaseAlreadyClosed")])
async def test_a_message_waiting_on_a_move_into_a_status_created_meanwhile_is_decided_by_that_status(
    api: Api, db: asyncpg.Connection, db_dsn: str, closed: bool, status: int, code: str | None
) -> None:
    # The one-statement message cannot see a status newer than its snapshot: it takes the locked path then.
    case_id = await customer_case(api)

    async def move_into_a_fresh_status(agent: asyncpg.Connection) -> None:
        new_status = await agent.fetchval(
            "INSERT INTO case_statuses (name, is_closed) VALUES ('Fresh', $1) RETURNING id", closed
        )
        await agent.execute(
            "UPDATE cases SET status_id = $2, closing_time = CASE WHEN $3 THEN now() END WHERE id = $1",
            case_id,
            new_status,
            closed,
        )

    hold = "UPDATE cases SET last_modified_by = last_modified_by WHERE id = $1"
    r = await message_while_the_case_is_held(api, db_dsn, case_id, hold, move_into_a_fresh_status)
    assert (r.status_code, r.json()["Error"]["Code"] if code else None) == (status, code), r.text
    messages = await db.fetchval("SELECT count(*) FROM interactions WHERE case_id = $1 AND type = 0", case_id)
    assert messages == (0 if closed else 1)


async def test_a_move_into_a_status_being_closed_waits_and_closes_the_case(
    api: Api, db: asyncpg.Connection, db_dsn: str
) -> None:
    # UpdateCaseStatus locks the status (lock_status) before it switches IsClosed: a move into that status waits
    # for it and then reads the status as committed (the move's lock on the status is what makes it wait: without
    # it the move would write the open state it read while the switch commits).
    status_id = (await api.ok("CreateCaseStatus", {"Name": "Waiting"}, AGENT))["ID"]
    case_id = await customer_case(api)
    await api.ok("GetCaseByID", {"ID": case_id}, AGENT)  # the agent is known: no user write, no transaction
    hold = "SELECT s.id FROM case_statuses s WHERE s.name = 'Waiting' AND $1::bigint > 0 FOR UPDATE"

    async def close_the_status(agent: asyncpg.Connection) -> None:
        await agent.execute("UPDATE case_statuses SET is_closed = true WHERE name = 'Waiting'")

    body = {"ID": case_id, "StatusID": status_id}
    r = await call_while_the_case_is_held(api, db_dsn, case_id, hold, "UpdateCaseState", body, AGENT, close_the_status)
    assert (r.status_code, r.json()) == (200, {"StatusAction": 0}), r.text
    row = await db.fetchrow("SELECT status_id, closing_time IS NOT NULL AS closed FROM cases WHERE id = $1", case_id)
    assert tuple(row) == (status_id, True)
    assert await ledger_of(db, case_id, 90) == ["Case status set to `Waiting`"]
    assert await invariant_breaks(db) == []


async def test_twenty_parallel_state_changes_and_messages_on_one_case_all_succeed(
    db_dsn: str, db: asyncpg.Connection
) -> None:
    async with serving(make_settings(db_dsn, pool_max_size=10)) as api:
        waiting = (await api.ok("CreateCaseStatus", {"Name": "Waiting"}, AGENT))["ID"]
        case_id = await customer_case(api)
        calls = []
        for n in range(20):
            calls.append(api.call("UpdateCaseState", {"ID": case_id, "StatusID": 2 if n % 2 else waiting}, AGENT))
            calls.append(api.call("UpdateCaseState", {"ID": case_id, "Priority": n % 3}, AGENT))
            calls.append(api.call("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": f"m{n}"}, CUSTOMER))
        answers = await asyncio.gather(*calls)
    assert Counter(r.status_code for r in answers) == {200: 60}
    assert await db.fetchval("SELECT count(*) FROM interactions WHERE case_id = $1 AND type = 0", case_id) == 20


async def test_status_open_closed_switches_racing_moves_keep_closed_iff_closing_time(
    db_dsn: str, db: asyncpg.Connection
) -> None:
    # Defect 8: a status switched to closed while a case moves into it.
    async with serving(make_settings(db_dsn, pool_max_size=10)) as api:
        status_id = (await api.ok("CreateCaseStatus", {"Name": "Waiting"}, AGENT))["ID"]
        cases = [await customer_case(api) for _ in range(6)]
        codes: Counter[tuple[int, str | None]] = Counter()
        for round_ in range(6):
            calls = [api.call("UpdateCaseState", {"ID": c, "StatusID": status_id}, AGENT) for c in cases]
            calls.insert(round_, api.call("UpdateCaseStatus", {"ID": status_id, "IsClosed": round_ % 2 == 0}, AGENT))
            for r in await asyncio.gather(*calls):
                codes[(r.status_code, r.json().get("Error", {}).get("Code") if r.status_code != 200 else None)] += 1
            await api.ok("UpdateCaseState", {"ID": cases[0], "StatusID": 2}, AGENT)  # sometimes frees the status
            assert await invariant_breaks(db) == []
    assert set(codes) <= {(200, None), (409, "CaseStatus:CannotChangeIsClosedOfStatusInUse")}
    assert codes[(200, None)] >= 36


async def test_deleting_a_status_while_cases_move_into_it_answers_documented_codes(
    db_dsn: str, db: asyncpg.Connection
) -> None:
    # Defect 9: DeleteCaseStatus racing a move used to be a generic 404 ReferenceNotFound.
    async with serving(make_settings(db_dsn, pool_max_size=10)) as api:
        cases = [await customer_case(api) for _ in range(5)]
        for _ in range(5):
            status_id = (await api.ok("CreateCaseStatus", {"Name": f"Temp {_}"}, AGENT))["ID"]
            calls = [api.call("UpdateCaseState", {"ID": c, "StatusID": status_id}, AGENT) for c in cases]
            calls.insert(2, api.call("DeleteCaseStatus", {"ID": status_id}, AGENT))
            answers = await asyncio.gather(*calls)
            deleted = answers.pop(2)
            moves = {(r.status_code, r.json().get("Error", {}).get("Code")) for r in answers}
            if deleted.status_code == 200:
                assert moves <= {(404, "CaseStatus:NotFound")}, moves
            else:
                assert deleted.json()["Error"]["Code"] == "CaseStatus:StatusInUse"
                assert {m[0] for m in moves} <= {200, 404}
            for c in cases:  # free the status for the next round
                await api.ok("UpdateCaseState", {"ID": c, "StatusID": 2}, AGENT)
    assert await invariant_breaks(db) == []


async def test_the_database_refuses_a_case_whose_closing_time_disagrees_with_its_status(
    api: Api, db: asyncpg.Connection
) -> None:
    case_id = await customer_case(api)
    for sql in (
        "UPDATE cases SET status_id = 3 WHERE id = $1",  # closed, no ClosingTime
        "UPDATE cases SET closing_time = now() WHERE id = $1",  # open, with a ClosingTime
    ):
        with pytest.raises(asyncpg.CheckViolationError) as caught:
            await db.execute(sql, case_id)
        error = translate_db_error(caught.value)
        assert error is not None and (error.status, error.code) == (409, "Case:StatusChangedConcurrently")
    with pytest.raises(asyncpg.CheckViolationError) as caught:
        await db.execute("UPDATE case_statuses SET is_closed = true WHERE id = 1")
    error = translate_db_error(caught.value)
    assert error is not None and error.code == "CaseStatus:CannotChangeIsClosedOfStatusInUse"


@pytest.mark.parametrize(
    ("sql", "status", "code"),
    [
        ("UPDATE cases SET status_id = 999 WHERE id = $1", 404, "CaseStatus:NotFound"),
        ("UPDATE cases SET assignee_id = 999 WHERE id = $1", 404, "User:NotFound"),
        ("INSERT INTO interactions (case_id, type, text) VALUES ($1 + 1000, 0, 'x')", 404, "Case:NotFound"),
        ("DELETE FROM case_statuses WHERE id = 1 AND $1 > 0", 409, "CaseStatus:StatusInUse"),
    ],
)
async def test_foreign_key_failures_translate_to_documented_codes(
    api: Api, db: asyncpg.Connection, sql: str, status: int, code: str
) -> None:
    case_id = await customer_case(api)
    with pytest.raises(asyncpg.ForeignKeyViolationError) as caught:
        await db.execute(sql, case_id)
    error = translate_db_error(caught.value)
    assert error is not None and (error.status, error.code) == (status, code)
