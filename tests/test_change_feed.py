"""ListChangedCases, the change feed: every committed change appears, each case once per page, a transaction that
commits late is not skipped, an empty page still carries a cursor, customers see only their own cases and staff
those of their units; under concurrent writers no change is missed and none repeated (a property test)."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import asyncpg
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import DatabaseFactory
from tests.helpers import Api, customer, employee
from tests.strategies import PROPERTY_SETTINGS

AGENT = employee(60, ["Cases:Manage"])
UNIT_AGENT = employee(61, ["Cases:Manage"], organization_units=[5])
ALICE, BOB = 62, 63


async def new_case(api: Api, owner: int = ALICE) -> int:
    body = {"Title": "My parcel is late", "Description": "Two weeks.", "TopicID": 2}
    case_id: int = (await api.ok("CustomerCreateCase", body, customer(owner)))["ID"]
    return case_id


async def feed(api: Api, tok: str, **body: Any) -> tuple[list[int], str]:
    page = await api.ok("ListChangedCases", body, tok)
    return [c["ID"] for c in page["Results"]], page["NextPageToken"]


# The feed never passes a transaction still running anywhere on the server: each test first lets the suite's
# own database clones (CREATE DATABASE, running beside the test) finish.


async def test_the_feed_lists_each_changed_case_once_and_always_hands_a_cursor(
    api: Api, db: asyncpg.Connection, databases: DatabaseFactory
) -> None:
    await databases.settle()
    since = await db.fetchval("SELECT now()")
    one, two = await new_case(api), await new_case(api)
    await api.ok("CustomerCreateCaseInteraction", {"CaseID": one, "Text": "Any news?"}, customer(ALICE))
    page = await api.ok("ListChangedCases", {"Since": since.isoformat()}, AGENT)
    modified = await db.fetchval("SELECT eva_time(last_modification_time) FROM cases WHERE id = $1", one)
    assert page["Results"][0] == {"ID": one, "StatusID": 1, "LastModificationTime": modified}
    assert [c["ID"] for c in page["Results"]] == [one, two]  # one twice changed, listed once
    cursor = page["NextPageToken"]
    ids, cursor = await feed(api, AGENT, PageToken=cursor)
    assert ids == []  # nothing new: an empty page, and still a cursor
    await api.ok("UpdateCaseState", {"ID": two, "StatusID": 2}, AGENT)
    ids, cursor = await feed(api, AGENT, PageToken=cursor)
    assert ids == [two]
    assert (await feed(api, AGENT, PageToken=cursor))[0] == []


async def test_pages_are_cut_at_the_limit_without_losing_a_case(
    api: Api, db: asyncpg.Connection, databases: DatabaseFactory
) -> None:
    await databases.settle()
    since = await db.fetchval("SELECT now()")
    cases = [await new_case(api) for _ in range(5)]
    ids, cursor = await feed(api, AGENT, Since=since.isoformat(), Limit=2)
    seen = list(ids)
    while ids:
        ids, cursor = await feed(api, AGENT, PageToken=cursor)
        seen += ids
    assert seen == cases


async def test_a_transaction_that_commits_late_is_not_skipped(
    api: Api, db_dsn: str, databases: DatabaseFactory
) -> None:
    await databases.settle()
    early, late = await new_case(api), await new_case(api)
    _, cursor = await feed(api, AGENT)  # from now
    slow = await asyncpg.connect(db_dsn)
    try:
        tx = slow.transaction()
        await tx.start()
        await slow.execute("UPDATE cases SET title = 'Changed slowly' WHERE id = $1", late)  # its ID comes first
        await api.ok("UpdateCaseState", {"ID": early, "StatusID": 2}, AGENT)  # commits first
        ids, held = await feed(api, AGENT, PageToken=cursor)
        assert ids == []  # the feed does not pass the running transaction
        await tx.commit()
    finally:
        await slow.close()
    ids, _ = await feed(api, AGENT, PageToken=held)
    assert sorted(ids) == sorted([early, late])


async def test_customers_see_their_own_cases_and_staff_their_units(
    api: Api, db: asyncpg.Connection, databases: DatabaseFactory
) -> None:
    await databases.settle()
    since = (await db.fetchval("SELECT now()")).isoformat()
    alices, bobs = await new_case(api, ALICE), await new_case(api, BOB)
    await db.execute("UPDATE cases SET assigned_organization_unit_id = 9 WHERE id = $1", bobs)
    assert (await feed(api, customer(ALICE), Since=since))[0] == [alices]
    assert (await feed(api, customer(BOB), Since=since))[0] == [bobs]
    assert (await feed(api, UNIT_AGENT, Since=since))[0] == [alices]  # unassigned: visible; unit 9: not
    _, alices_cursor = await feed(api, customer(ALICE), Since=since)
    err = await api.error("ListChangedCases", {"PageToken": alices_cursor}, customer(BOB), 400)
    assert err["Code"] == "InvalidPageToken"  # a cursor is its customer's own
    await api.error("ListChangedCases", {}, employee(64, ["CaseTopics:View"]), 403)


@PROPERTY_SETTINGS
@given(
    writes=st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["state", "message", "summary"])), max_size=24),
)
async def test_under_concurrent_writers_every_change_appears_and_none_twice(
    api: Api, databases: DatabaseFactory, writes: list[tuple[int, str]]
) -> None:
    await databases.settle()
    cases = [await new_case(api) for _ in range(4)]
    _, cursor = await feed(api, AGENT)  # from now: only this example's changes
    pages: list[tuple[float, list[int]]] = []  # (answered, cases)
    done: list[tuple[float, int]] = []  # (started, case)
    writing = True
    unique = itertools.count()  # every write changes its case

    async def write(batch: list[tuple[int, str]]) -> None:
        for index, kind in batch:
            case_id = cases[index]
            started = time.monotonic()
            if kind == "state":
                await api.ok("UpdateCaseState", {"ID": case_id, "Solution": f"s{next(unique)}"}, AGENT)
            elif kind == "message":
                await api.ok("CreateCaseInteraction", {"CaseID": case_id, "InteractionType": 1, "Text": "x"}, AGENT)
            else:
                await api.ok("UpdateCaseSummary", {"ID": case_id, "Summary": f"s{next(unique)}"}, AGENT)
            done.append((started, case_id))

    async def poll() -> None:
        nonlocal cursor
        empty_after_writers = 0
        while empty_after_writers < 2:
            ids, cursor = await feed(api, AGENT, PageToken=cursor, Limit=3)
            pages.append((time.monotonic(), ids))
            if not writing and not ids:
                empty_after_writers += 1

    async def writers() -> None:
        nonlocal writing
        await asyncio.gather(*(write(writes[i::3]) for i in range(3)))
        writing = False

    await asyncio.gather(writers(), poll())
    # Every write's case appears in a page answered after the write began.
    for started, case_id in done:
        assert any(answered >= started and case_id in ids for answered, ids in pages), (case_id, pages)
    # No case more often than the transactions that changed it; no case twice in one page.
    for case_id in cases:
        listed = sum(ids.count(case_id) for _, ids in pages)
        assert listed <= sum(1 for _, c in done if c == case_id)
    assert all(len(ids) == len(set(ids)) for _, ids in pages)
