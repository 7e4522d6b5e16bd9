"""What each agent may see (issue 17, seed 003's view mine / assigned / unassigned): the token claim `case_scopes`
limits an employee, besides organization units, to cases assigned to them, unassigned cases and/or cases they
created; ListCases' AssignedToMe, Unassigned and CreatedByMe are the matching queue filters."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import asyncpg
from hypothesis import given
from hypothesis import strategies as st

from evacase.services import case_list
from tests.conftest import DatabaseFactory
from tests.factories import a_user
from tests.helpers import Api, employee
from tests.strategies import PROPERTY_SETTINGS

_viewers = itertools.count(500)
SCOPES = ("assigned", "unassigned", "created")
CUSTOMER = 499
# A value for every ListCases filter (a callable picks one from the cases made: rows newest first).
FILTER_VALUES: dict[str, Any] = {
    "ID": lambda rows: rows[-1]["id"],
    "BackendID": "B1",
    "Title": "COPE",
    "TopicID": 1,
    "StatusID": 2,
    "Priority": 2,
    "CustomerID": CUSTOMER,
    "AssigneeID": lambda rows: rows[0]["viewer"],
    "AssignedOrganizationUnitID": 10,
    "OriginatingOrganizationUnitID": 20,
    "OrderID": 77,
    "ExternalOrderIdentifier": "E1",
    "LastModificationTimeFrom": lambda rows: iso(rows[len(rows) // 2]["last_modification_time"]),
    "LastModificationTimeTo": lambda rows: iso(rows[len(rows) // 2]["last_modification_time"]),
    "DueBefore": lambda rows: iso(rows[0]["now"]),
    "IsOverdue": True,
    "IsBreached": True,
    "IsAtRisk": True,
    "CustomerReference": "R1",
    "Origin": "Email",
    "Tag": "scoped",
    "AssignedToMe": True,
    "Unassigned": True,
    "CreatedByMe": True,
}
QUEUE = {"DueBefore", "IsOverdue", "IsBreached", "IsAtRisk"}
TIME_RANGE = {"LastModificationTimeFrom", "LastModificationTimeTo"}


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def test_every_list_filter_is_tried() -> None:
    assert set(FILTER_VALUES) == set(case_list.FILTERS)


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
    """Whether the case passes every filter of `wanted`, as the README describes each."""
    due = case["next_due_at"]
    checks = {
        "ID": lambda v: case["id"] == v,
        "BackendID": lambda v: case["backend_id"] == v,
        "Title": lambda v: v.lower() in case["title"].lower(),
        "TopicID": lambda v: case["topic_id"] == v,
        "StatusID": lambda v: case["status_id"] == v,
        "Priority": lambda v: case["priority"] == v,
        "CustomerID": lambda v: case["customer_id"] == v,
        "AssigneeID": lambda v: case["assignee_id"] == v,
        "AssignedOrganizationUnitID": lambda v: case["assigned_organization_unit_id"] == v,
        "OriginatingOrganizationUnitID": lambda v: case["originating_organization_unit_id"] == v,
        "OrderID": lambda v: case["order_id"] == v,
        "ExternalOrderIdentifier": lambda v: case["external_order_identifier"] == v,
        "LastModificationTimeFrom": lambda v: case["last_modification_time"] >= dt.datetime.fromisoformat(v),
        "LastModificationTimeTo": lambda v: case["last_modification_time"] < dt.datetime.fromisoformat(v),
        "DueBefore": lambda v: due is not None and due < dt.datetime.fromisoformat(v),
        "IsOverdue": lambda v: due is not None and due < case["now"],
        "IsBreached": lambda v: case["is_breached"],
        "IsAtRisk": lambda v: case["is_at_risk"],
        "CustomerReference": lambda v: case["customer_reference"] == v,
        "Origin": lambda v: case["origin"] == v,
        "Tag": lambda v: v in case["tags"],
        "AssignedToMe": lambda v: case["assignee_id"] == me,
        "Unassigned": lambda v: case["assignee_id"] is None,
        "CreatedByMe": lambda v: case["created_by"] == me,
    }
    in_queue = due is not None if QUEUE & wanted.keys() else True  # the queue holds open cases with a due time
    return in_queue and all(checks[name](value) for name, value in wanted.items())


def in_list_order(cases: list[asyncpg.Record], wanted: dict[str, Any]) -> list[int]:
    """The documented order: the queue by due time; a time range alone by last modification, latest first;
    otherwise newest first (by ID)."""
    if QUEUE & wanted.keys():
        cases = sorted(cases, key=lambda c: (c["next_due_at"], c["id"]))
    elif TIME_RANGE & wanted.keys() and not (wanted.keys() - TIME_RANGE - {"Title", "Unassigned"} - QUEUE):
        cases = sorted(cases, key=lambda c: (c["last_modification_time"], c["id"]), reverse=True)
    return [c["id"] for c in cases]


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
    st.fixed_dictionaries(
        {
            "assignee": st.sampled_from(["me", "other", None]),
            "creator": st.sampled_from(["me", "other"]),
            "unit": st.sampled_from([None, 10, 20]),
            "status": st.sampled_from([1, 2]),
            "tagged": st.booleans(),
            "priority": st.sampled_from([0, 2]),
            "origin": st.sampled_from(["Web", "Email"]),
            "reference": st.sampled_from([None, "R1"]),
            "backend": st.booleans(),
            "external": st.sampled_from([None, "E1"]),
            "order": st.sampled_from([None, 77]),
            "customer": st.sampled_from([None, CUSTOMER]),
            "originating": st.sampled_from([None, 10, 20]),
            "title": st.sampled_from(["Scoped", "Other"]),
            "due": st.sampled_from([None, -1, 1]),  # days from now
            "at_risk": st.booleans(),
        }
    ),
    min_size=1,
    max_size=6,
)


@PROPERTY_SETTINGS
@given(
    shapes=case_shapes,
    scopes=st.one_of(st.none(), st.lists(st.sampled_from(SCOPES), unique=True, max_size=3)),
    units=st.sampled_from([None, [10], [10, 20]]),
    also=st.lists(st.sampled_from(sorted(FILTER_VALUES)), max_size=1),
)
async def test_an_employee_sees_exactly_the_cases_their_scopes_and_units_allow(
    api: Api,
    db: asyncpg.Connection,
    shapes: list[dict[str, Any]],
    scopes: list[str] | None,
    units: list[int] | None,
    also: list[str],
) -> None:
    """Through ListCases with every filter alone and together with one more (`also`), every page, and five
    services on every case."""
    me = next(_viewers)
    other = me + 10_000
    people = {"me": me, "other": other, None: None}
    for user in (me, other):
        await a_user(db, user, user_type=1)
    await a_user(db, CUSTOMER, user_type=2)
    made = []
    for n, shape in enumerate(shapes):
        case_id = await db.fetchval(
            "INSERT INTO cases (topic_id, status_id, title, assignee_id, created_by, assigned_organization_unit_id,"
            " priority, origin, customer_reference, backend_system_id, backend_id, external_order_identifier,"
            " order_id, customer_id, originating_organization_unit_id, due_date)"
            " VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
            " now() + make_interval(days => $15)) RETURNING id",
            shape["status"],
            shape["title"],
            people[shape["assignee"]],
            people[shape["creator"]],
            shape["unit"],
            shape["priority"],
            shape["origin"],
            shape["reference"],
            f"S{me}-{n}" if shape["backend"] else None,
            "B1" if shape["backend"] else None,
            shape["external"],
            shape["order"],
            shape["customer"],
            shape["originating"],
            shape["due"],
        )
        if shape["tagged"]:
            await db.execute("INSERT INTO case_tags (case_id, tag) VALUES ($1, 'scoped')", case_id)
        if shape["at_risk"]:
            await db.execute("UPDATE case_service_levels SET resolution_warned_at = now() WHERE case_id = $1", case_id)
        made.append(case_id)
    cases = await db.fetch(
        "SELECT c.*, $1::bigint AS viewer, now() AS now, q.next_due_at,"
        " ARRAY (SELECT g.tag FROM case_tags g WHERE g.case_id = c.id) AS tags,"
        " coalesce(q.first_response_breached_at, q.next_response_breached_at, q.resolution_breached_at)"
        "   IS NOT NULL AS is_breached,"
        " coalesce(service_level_at_risk(q, false), false) AS is_at_risk"
        " FROM cases c LEFT JOIN case_service_levels q ON q.case_id = c.id ORDER BY c.id DESC",
        me,
    )
    values = {name: value(cases) if callable(value) else value for name, value in FILTER_VALUES.items()}
    tok = employee(me, ["Cases:Manage"], organization_units=units, case_scopes=scopes)

    for wanted in [{}] + [{name: values[name]} | {extra: values[extra] for extra in also} for name in values]:
        chosen = [c for c in cases if visible(c, me, units, scopes) and matches(c, me, wanted)]
        assert await listed(api, tok, wanted) == in_list_order(chosen, wanted), wanted

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
