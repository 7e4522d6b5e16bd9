"""The workflow services under concurrent requests and retries (issue 17): links made from both sides at once
neither deadlock nor double, a contact limit holds under simultaneous adds, a cancel races a cancel."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.conftest import make_settings, serving
from tests.helpers import Api, customer, employee

AGENT = employee(60, ["Cases:Manage"])
ALICE = 101


@pytest.fixture
async def wide_api(db_dsn: str) -> AsyncIterator[Api]:
    """The app with enough connections for every request below to run at once."""
    async with serving(make_settings(db_dsn, pool_max_size=12)) as client:
        yield client


async def new_case(api: Api) -> int:
    body = {"TopicID": 1, "Title": "Broken zipper", "Description": "It broke."}
    return int((await api.ok("CustomerCreateCase", body, customer(ALICE)))["ID"])


async def test_a_pair_linked_from_both_sides_at_once_has_one_link(wide_api: Api, db: asyncpg.Connection) -> None:
    for _ in range(5):
        a, b = await new_case(wide_api), await new_case(wide_api)
        answers = await asyncio.gather(
            wide_api.call("LinkCases", {"CaseID": a, "LinkedCaseID": b, "Type": "FollowUpOf"}, AGENT),
            wide_api.call("LinkCases", {"CaseID": b, "LinkedCaseID": a, "Type": "DuplicateOf"}, AGENT),
            wide_api.call("LinkCases", {"CaseID": a, "LinkedCaseID": b}, AGENT),
        )
        assert [r.status_code for r in answers] == [200, 200, 200], [r.text for r in answers]
        links = await db.fetch(
            "SELECT case_id, linked_case_id FROM case_links WHERE $1 IN (case_id, linked_case_id)", a
        )
        assert len(links) == 1


async def test_simultaneous_contacts_stop_at_the_limit(wide_api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(wide_api)
    await db.execute(
        "INSERT INTO case_contacts (case_id, type, email_address) SELECT $1, 'Notification', 'c' || g || '@x.example'"
        " FROM generate_series(1, 15) g",
        case_id,
    )
    answers = await asyncio.gather(
        *(
            wide_api.call(
                "AddCaseContact", {"CaseID": case_id, "Contact": {"EmailAddress": f"new{i}@x.example"}}, AGENT
            )
            for i in range(10)
        )
    )
    assert Counter(r.status_code for r in answers) == {200: 5, 409: 5}
    assert await db.fetchval("SELECT count(*) FROM case_contacts WHERE case_id = $1", case_id) == 20


async def test_two_cancels_at_once_cancel_once(wide_api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(wide_api)
    answers = await asyncio.gather(
        *(
            wide_api.call("CustomerCancelCase", {"ID": case_id, "Reason": f"Reason {i}"}, customer(ALICE))
            for i in range(4)
        )
    )
    assert sorted(r.status_code for r in answers) == [200, 409, 409, 409]
    assert await db.fetchval("SELECT count(*) FROM interactions WHERE case_id = $1 AND type = 0", case_id) == 1
    cancelled = await db.fetchval(
        "SELECT count(*) FROM interactions WHERE case_id = $1 AND text LIKE 'Case cancelled: %'", case_id
    )
    assert cancelled == 1
