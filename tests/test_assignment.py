"""Automatic assignment: rules in order, round robin (A, B, C, A), fewest open cases, unavailable employees
skipped, the cap held, twenty simultaneous creations spread evenly, and a case that found nobody assigned by the
scheduler later."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import asyncpg

from evacase.auth import UserType
from evacase.jobs.service_levels import _assign_waiting
from tests.helpers import Api, customer, employee, token

ADMIN = employee(40, ["AssignmentRules:Manage", "Cases:Manage"])
AGENTS = {41: "Ann", 42: "Bob", 43: "Cid", 44: "Dee"}
CUSTOMER = customer(45, "Cathy", "Client")


async def agents(api: Api, ids: list[int]) -> None:
    for agent_id in ids:  # each agent known to evacase (their first request records them)
        await api.ok("Ping", {}, token(agent_id, UserType.EMPLOYEE, [], AGENTS[agent_id], "Agent"))


async def rule(api: Api, assignees: list[int], **fields: Any) -> int:
    body = {"Name": "Support", "AssigneeIDs": assignees, **fields}
    rule_id: int = (await api.ok("CreateAssignmentRule", body, ADMIN))["ID"]
    return rule_id


async def new_case(api: Api) -> int:
    body = {"Title": "Where is my parcel?", "Description": "Two weeks.", "TopicID": 2}
    case_id: int = (await api.ok("CustomerCreateCase", body, CUSTOMER))["ID"]
    return case_id


async def assignee(db: asyncpg.Connection, case_id: int) -> int | None:
    value: int | None = await db.fetchval("SELECT assignee_id FROM cases WHERE id = $1", case_id)
    return value


async def test_round_robin_goes_a_b_c_a_and_writes_its_ledger_line(api: Api, db: asyncpg.Connection) -> None:
    await agents(api, [41, 42, 43])
    await rule(api, [41, 42, 43])
    cases = [await new_case(api) for _ in range(4)]
    assert [await assignee(db, c) for c in cases] == [41, 42, 43, 41]
    line = await db.fetchval(
        "SELECT text FROM interactions WHERE case_id = $1 AND type = 2 ORDER BY id DESC LIMIT 1", cases[0]
    )
    assert line == "Case assigned to `Ann Agent` automatically (rule `Support`)"
    view = await api.ok("GetCaseByID", {"ID": cases[1]}, ADMIN)
    assert (view["AssigneeID"], view["AssigneeName"], bool(view["AssignedOn"])) == (42, "Bob Agent", True)


async def test_unavailable_employees_are_skipped_and_the_cap_holds(api: Api, db: asyncpg.Connection) -> None:
    await agents(api, [41, 42, 43])
    await rule(api, [41, 42, 43], MaxOpenCasesPerAssignee=2)
    assert await api.ok("SetEmployeeAvailability", {"UserID": 42, "IsAvailable": False}, ADMIN) == {}
    cases = [await new_case(api) for _ in range(5)]
    assert [await assignee(db, c) for c in cases] == [41, 43, 41, 43, None]  # Bob away; then everyone at the cap
    assert await db.fetchval("SELECT awaiting_assignment FROM cases WHERE id = $1", cases[4])
    # Bob comes back (setting it himself): the scheduler assigns the waiting case.
    bob = token(42, UserType.EMPLOYEE, [], "Bob", "Agent")
    assert await api.ok("SetEmployeeAvailability", {"UserID": 42, "IsAvailable": True}, bob) == {}
    async with db.transaction():
        assert await _assign_waiting(db) == 1
    assert await assignee(db, cases[4]) == 42
    async with db.transaction():
        assert await _assign_waiting(db) == 0


async def test_fewest_open_cases_and_the_first_matching_rule(api: Api, db: asyncpg.Connection) -> None:
    await agents(api, [41, 42, 43, 44])
    await rule(api, [44], Name="Urgent", Position=1, Conditions={"Priorities": [9]})
    await rule(api, [41, 42, 43], Name="Everyone", Position=2, Method="FewestOpenCases")
    # Ann already has two open cases, Bob one.
    for agent_id, count in ((41, 2), (42, 1)):
        for _ in range(count):
            body = {"Title": "Busy", "Description": "x", "TopicID": 1, "AssigneeID": agent_id}
            await api.ok("CreateCase", body, ADMIN)
    body = {"Title": "Auto", "Description": "x", "TopicID": 1, "AutoAssign": True}
    picks = [await assignee(db, (await api.ok("CreateCase", body, ADMIN))["ID"]) for _ in range(3)]
    assert picks == [43, 42, 43]  # Cid (0), then Bob and Cid tie at 1 (the rule's order decides), then Cid
    urgent = {**body, "Priority": 9}
    assert await assignee(db, (await api.ok("CreateCase", urgent, ADMIN))["ID"]) == 44
    manual = {"Title": "Manual", "Description": "x", "TopicID": 1}
    assert await assignee(db, (await api.ok("CreateCase", manual, ADMIN))["ID"]) is None  # AutoAssign not asked


async def test_twenty_simultaneous_creations_spread_evenly(api: Api, db: asyncpg.Connection) -> None:
    await agents(api, [41, 42, 43, 44])
    await rule(api, [41, 42, 43, 44])
    cases = await asyncio.gather(*(new_case(api) for _ in range(20)))
    counts = Counter([await assignee(db, c) for c in cases])
    assert counts == {41: 5, 42: 5, 43: 5, 44: 5}


async def test_rules_are_managed_and_checked(api: Api) -> None:
    await agents(api, [41, 42])
    rule_id = await rule(api, [41, 42])
    err = await api.error("CreateAssignmentRule", {"Name": "x", "AssigneeIDs": [41, 45]}, ADMIN, 400)
    assert (err["Code"], err["Data"]) == ("AssignmentRule:InvalidAssignee", {"UserIDs": [45]})  # 45 is a customer
    assert await api.ok("UpdateAssignmentRule", {"ID": rule_id, "Method": "FewestOpenCases"}, ADMIN) == {}
    listed = (await api.ok("ListAssignmentRules", {}, ADMIN))["Results"]
    assert [(r["ID"], r["Method"], r["AssigneeIDs"]) for r in listed] == [(rule_id, "FewestOpenCases", [41, 42])]
    await api.error("SetEmployeeAvailability", {"UserID": 41, "IsAvailable": False}, employee(42, []), 403)
    err = await api.error("SetEmployeeAvailability", {"UserID": 45, "IsAvailable": False}, ADMIN, 404)
    assert err["Code"] == "User:NotFound"
    await api.error("ListAssignmentRules", {}, CUSTOMER, 403)
    assert await api.ok("DeleteAssignmentRule", {"ID": rule_id}, ADMIN) == {}
    await api.error("DeleteAssignmentRule", {"ID": rule_id}, ADMIN, 404)


async def test_a_push_asks_for_assignment_and_carries_a_due_date(api: Api, db: asyncpg.Connection) -> None:
    from tests.helpers import token as mint

    integrator = mint(46, UserType.API, ["PushCases:None"])
    await agents(api, [41])
    await rule(api, [41])
    push = {
        "BackendSystemID": "CRM",
        "BackendID": "C-1",
        "CaseTopic": {"BackendID": "T-RET", "Name": "Returns"},
        "Title": "Parcel never arrived",
        "Description": "Ordered two weeks ago.",
        "Status": "New",
        "AutoAssign": True,
        "DueDate": "2030-05-01T10:00:00Z",
    }
    case_id = (await api.ok("PushCase", push, integrator))["ID"]
    view = await api.ok("GetCaseByID", {"ID": case_id}, ADMIN)
    assert (view["AssigneeID"], view["DueDate"]) == (41, "2030-05-01T10:00:00.000Z")
    await api.ok("PushCase", {**push, "Update": True, "DueDate": None, "AutoAssign": False}, integrator)
    assert "DueDate" not in await api.ok("GetCaseByID", {"ID": case_id}, ADMIN)
    without = {**push, "BackendID": "C-2", "AutoAssign": False}
    assert await assignee(db, (await api.ok("PushCase", without, integrator))["ID"]) is None
