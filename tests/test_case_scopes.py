"""What each agent may see (issue 17, seed 003's view mine / assigned / unassigned): the token claim `case_scopes`
limits an employee, besides organization units, to cases assigned to them, unassigned cases and/or cases they
created; ListCases' AssignedToMe, Unassigned and CreatedByMe are the matching queue filters."""

from __future__ import annotations

import itertools
from typing import Any

import asyncpg
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import DatabaseFactory
from tests.factories import a_user
from tests.helpers import Api, employee
from tests.strategies import PROPERTY_SETTINGS

_viewers = itertools.count(500)
SCOPES = ("assigned", "unassigned", "created")
FILTERS: list[dict[str, Any]] = [
    {},
    {"AssignedToMe": True},
    {"Unassigned": True},
    {"CreatedByMe": True},
    {"StatusID": 2},
    {"AssignedOrganizationUnitID": 10},
    {"Tag": "scoped"},
    {"CreatedByMe": True, "StatusID": 2},
]


def visible(case: asyncpg.Record, me: int, units: list[int] | None, scopes: list[str] | None) -> bool:
    """The rule, as the README states it."""
    unit = case["assigned_organization_unit_id"]
    if units is not None and unit is not None and unit not in units:
        return False
    if scopes is None:
        return True
    return (
        ("assigned" in scopes and case["assignee_id"] == me)
        or ("unassigned" in scopes and case["assignee_id"] is None)
        or ("created" in scopes and case["created_by"] == me)
    )


def matches(case: asyncpg.Record, me: int, wanted: dict[str, Any]) -> bool:
    checks = {
        "AssignedToMe": case["assignee_id"] == me,
        "Unassigned": case["assignee_id"] is None,
        "CreatedByMe": case["created_by"] == me,
        "StatusID": case["status_id"] == wanted.get("StatusID"),
        "AssignedOrganizationUnitID": case["assigned_organization_unit_id"] == wanted.get("AssignedOrganizationUnitID"),
        "Tag": "scoped" in case["tags"],
    }
    return all(checks[name] for name in wanted)


async def listed(api: Api, tok: str, wanted: dict[str, Any]) -> list[int]:
    """Every case ListCases gives with `wanted`, page by page (3 a page)."""
    seen: list[int] = []
    body: dict[str, Any] = {"InitialPageConfig": {"Limit": 3, "Filter": wanted}}
    while True:
        page = await api.ok("ListCases", body, tok)
        seen += [r["ID"] for r in page["Results"]]
        if "NextPageToken" not in page:
            return seen
        body = {"PageToken": page["NextPageToken"]}


case_shapes = st.lists(
    st.tuples(
        st.sampled_from(["me", "other", None]),  # assignee
        st.sampled_from(["me", "other"]),  # created by
        st.sampled_from([None, 10, 20]),  # assigned organization unit
        st.sampled_from([1, 2]),  # status
        st.booleans(),  # tagged
    ),
    min_size=1,
    max_size=6,
)


@PROPERTY_SETTINGS
@given(
    shapes=case_shapes,
    scopes=st.one_of(st.none(), st.lists(st.sampled_from(SCOPES), unique=True, max_size=3)),
    units=st.sampled_from([None, [10], [10, 20]]),
    wanted=st.sampled_from(FILTERS),
)
async def test_an_employee_sees_exactly_the_cases_their_scopes_and_units_allow(
    api: Api,
    db: asyncpg.Connection,
    shapes: list[tuple[str | None, str, int | None, int, bool]],
    scopes: list[str] | None,
    units: list[int] | None,
    wanted: dict[str, Any],
) -> None:
    me = next(_viewers)
    other = me + 10_000
    people = {"me": me, "other": other, None: None}
    for user in (me, other):
        await a_user(db, user, user_type=1)
    made = []
    for assignee, creator, unit, status, tagged in shapes:
        case_id = await db.fetchval(
            "INSERT INTO cases (topic_id, status_id, title, assignee_id, created_by, assigned_organization_unit_id)"
            " VALUES (1, $1, 'Scoped', $2, $3, $4) RETURNING id",
            status,
            people[assignee],
            people[creator],
            unit,
        )
        if tagged:
            await db.execute("INSERT INTO case_tags (case_id, tag) VALUES ($1, 'scoped')", case_id)
        made.append(case_id)
    cases = await db.fetch(
        "SELECT c.*, ARRAY (SELECT g.tag FROM case_tags g WHERE g.case_id = c.id) AS tags FROM cases c ORDER BY id DESC"
    )
    tok = employee(me, ["Cases:Manage"], organization_units=units, case_scopes=scopes)

    expected = [c["id"] for c in cases if visible(c, me, units, scopes) and matches(c, me, wanted)]
    assert await listed(api, tok, wanted) == expected

    allowed = {c["id"] for c in cases if visible(c, me, units, scopes)}
    for case_id in made:
        status = 200 if case_id in allowed else 404
        for service, body in [
            ("GetCaseByID", {"ID": case_id}),
            ("ListCaseInteractions", {"CaseID": case_id}),
            ("ListBlobsForCase", {"CaseID": case_id}),
            ("AddCaseTags", {"CaseID": case_id, "Tags": ["seen"]}),
            ("UpdateCaseSummary", {"ID": case_id, "Summary": "Seen."}),
        ]:
            r = await api.call(service, body, tok)
            assert r.status_code == status, (service, case_id, r.text)


async def test_scopes_in_the_token_are_checked_and_a_single_scope_drives_the_list(
    api: Api, db: asyncpg.Connection
) -> None:
    for bad in (["mine"], "assigned", [1]):
        r = await api.call("ListCases", {}, employee(61, ["Cases:Manage"], case_scopes=bad))
        assert r.status_code == 401
        assert r.json()["Error"]["Message"] == (
            'The token is not valid: the claim `case_scopes` must be a list of "assigned", "unassigned" and "created".'
        )
    await a_user(db, 61, user_type=1)
    for _ in range(3):
        await db.execute("INSERT INTO cases (topic_id, status_id, title, assignee_id) VALUES (1, 1, 'Mine', 61)")
        await db.execute("INSERT INTO cases (topic_id, status_id, title) VALUES (1, 1, 'Free')")
    nobody = await api.ok("ListCases", {}, employee(61, ["Cases:Manage"], case_scopes=[]))
    assert nobody["Results"] == []
    mine = await api.ok("ListCases", {}, employee(61, ["Cases:Manage"], case_scopes=["assigned"]))
    assert [r["Title"] for r in mine["Results"]] == ["Mine"] * 3
    # A case made by the employee is visible to them under "created" (CreateCase sets CreatedBy).
    creator = employee(61, ["Cases:Manage"], case_scopes=["created"])
    made = await api.ok("CreateCase", {"TopicID": 1, "Title": "Made", "Description": "d"}, creator)
    assert (await api.ok("GetCaseByID", {"ID": made["ID"]}, creator))["Title"] == "Made"
    # Handing it to someone else keeps it (still theirs by creation); an "assigned" agent then loses it.
    assignee = employee(61, ["Cases:Manage"], case_scopes=["assigned"])
    await api.ok("UpdateCaseState", {"ID": made["ID"], "AssigneeID": 61}, creator)
    assert (await api.ok("GetCaseByID", {"ID": made["ID"]}, assignee))["AssigneeID"] == 61
    await a_user(db, 62, user_type=1)
    await api.ok("UpdateCaseState", {"ID": made["ID"], "AssigneeID": 62}, assignee)
    assert (await api.call("GetCaseByID", {"ID": made["ID"]}, assignee)).status_code == 404


async def test_the_change_feed_follows_the_scopes(api: Api, db: asyncpg.Connection, databases: DatabaseFactory) -> None:
    await a_user(db, 61, user_type=1)
    await a_user(db, 62, user_type=1)
    mine = await db.fetchval(
        "INSERT INTO cases (topic_id, status_id, title, assignee_id) VALUES (1, 1, 'Mine', 61) RETURNING id"
    )
    await db.execute("INSERT INTO cases (topic_id, status_id, title, assignee_id) VALUES (1, 1, 'Theirs', 62)")
    await databases.settle()  # the feed waits for every transaction on the server (clones too)
    feed = await api.ok(
        "ListChangedCases", {"Since": "2000-01-01T00:00:00Z"}, employee(61, ["Cases:View"], case_scopes=["assigned"])
    )
    assert [r["ID"] for r in feed["Results"]] == [mine]
    assert "Contacts" not in feed["Results"][0]
