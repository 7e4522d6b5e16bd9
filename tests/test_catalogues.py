"""The employee-side catalogues: case statuses and case topics (create, get, update, delete, list)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.dbstate import snapshot
from tests.helpers import Api, customer, employee

STATUS_ADMIN = employee(40, ["CaseStatuses:Manage"])
TOPIC_ADMIN = employee(41, ["CaseTopics:Manage"])

SYSTEM_STATUSES = [
    {
        "ID": 4,
        "Name": "Cancelled",
        "Description": "The case has been cancelled.",
        "Action": 0,
        "IsClosed": True,
        "IsSystem": True,
        "PausesServiceLevel": False,
    },
    {
        "ID": 3,
        "Name": "Completed",
        "Description": "The case has been resolved.",
        "Action": 0,
        "IsClosed": True,
        "IsSystem": True,
        "PausesServiceLevel": False,
    },
    {
        "ID": 2,
        "Name": "InProgress",
        "Description": "Somebody is working on the case.",
        "Action": 0,
        "IsClosed": False,
        "IsSystem": True,
        "PausesServiceLevel": False,
    },
    {
        "ID": 1,
        "Name": "New",
        "Description": "The case has been created and nobody has worked on it yet.",
        "Action": 0,
        "IsClosed": False,
        "IsSystem": True,
        "PausesServiceLevel": False,
    },
]


async def file_case(db: asyncpg.Connection, status_id: int = 1, topic_id: int = 1) -> int:
    await db.execute("INSERT INTO users (id, user_type) VALUES (900, 2) ON CONFLICT DO NOTHING")
    case_id: int = await db.fetchval(
        "INSERT INTO cases (customer_id, topic_id, status_id, title) VALUES (900, $1, $2, 'A case') RETURNING id",
        topic_id,
        status_id,
    )
    return case_id


# --- statuses -------------------------------------------------------------------------------------------


async def test_a_new_status_is_listed_first_with_every_field(api: Api) -> None:
    created = await api.ok(
        "CreateCaseStatus",
        {
            "Name": "WaitingForCustomer",
            "Description": "We asked the customer something.",
            "BackendID": "WFC",
            "Color": "#FFA500",
            "Action": 2,
            "ScriptID": 12,
        },
        STATUS_ADMIN,
    )
    assert created == {"ID": 5}
    expected = {
        "ID": 5,
        "Name": "WaitingForCustomer",
        "Description": "We asked the customer something.",
        "BackendID": "WFC",
        "Color": "#FFA500",
        "Action": 2,
        "IsClosed": False,
        "IsSystem": False,
        "PausesServiceLevel": False,
        "ScriptID": 12,
    }
    assert await api.ok("GetCaseStatus", {"ID": 5}, STATUS_ADMIN) == expected
    assert await api.ok("ListCaseStatuses", {}, STATUS_ADMIN) == {"Results": [expected, *SYSTEM_STATUSES]}


async def test_status_names_are_unique(api: Api, db: asyncpg.Connection) -> None:
    before = await snapshot(db)
    err = await api.error("CreateCaseStatus", {"Name": "InProgress"}, STATUS_ADMIN, 409)
    assert (err["Code"], err["Type"]) == ("CaseStatus:StatusNameAlreadyExists", "Conflict")
    assert await snapshot(db) == before


@pytest.mark.parametrize("color", ["red", "#12345", "#GGGGGG", "#1234567", ""])
async def test_a_status_color_must_be_a_hex_color(api: Api, color: str) -> None:
    err = await api.error("CreateCaseStatus", {"Name": "Odd", "Color": color}, STATUS_ADMIN, 400)
    assert err["Data"]["Field"] == "Color"


async def test_updating_a_status_keeps_absent_fields_and_clears_null_ones(api: Api) -> None:
    await api.ok("CreateCaseStatus", {"Name": "Escalated", "Description": "Hot", "Color": "#F00"}, STATUS_ADMIN)
    await api.ok("UpdateCaseStatus", {"ID": 5, "Name": "Escalated2", "Description": None}, STATUS_ADMIN)
    assert await api.ok("GetCaseStatus", {"ID": 5}, STATUS_ADMIN) == {
        "ID": 5,
        "Name": "Escalated2",
        "Color": "#F00",
        "Action": 0,
        "IsClosed": False,
        "IsSystem": False,
        "PausesServiceLevel": False,
    }


async def test_system_statuses_keep_their_names_and_stay(api: Api, db: asyncpg.Connection) -> None:
    before = await snapshot(db)
    err = await api.error("UpdateCaseStatus", {"ID": 2, "Name": "Busy"}, STATUS_ADMIN, 409)
    assert err["Code"] == "CaseStatus:NameOfInternalStatusCannotBeModified"
    err = await api.error("UpdateCaseStatus", {"ID": 1, "IsClosed": True}, STATUS_ADMIN, 409)
    assert err["Code"] == "CaseStatus:IsClosedOfInternalStatusCannotBeModified"
    err = await api.error("DeleteCaseStatus", {"ID": 3}, STATUS_ADMIN, 409)
    assert err["Code"] == "CaseStatus:InternalStatusCannotBeDeleted"
    assert await snapshot(db) == before
    # Their description and color may change; sending their own name is no rename.
    await api.ok("UpdateCaseStatus", {"ID": 2, "Name": "InProgress", "Color": "#00F"}, STATUS_ADMIN)
    assert (await api.ok("GetCaseStatus", {"ID": 2}, STATUS_ADMIN))["Color"] == "#00F"


async def test_a_status_in_use_cannot_be_deleted_nor_opened_or_closed(api: Api, db: asyncpg.Connection) -> None:
    await api.ok("CreateCaseStatus", {"Name": "Escalated"}, STATUS_ADMIN)
    case_id = await file_case(db, status_id=5)
    before = await snapshot(db)
    err = await api.error("DeleteCaseStatus", {"ID": 5}, STATUS_ADMIN, 409)
    assert err["Code"] == "CaseStatus:StatusInUse"
    err = await api.error("UpdateCaseStatus", {"ID": 5, "IsClosed": True}, STATUS_ADMIN, 409)
    assert err["Code"] == "CaseStatus:CannotChangeIsClosedOfStatusInUse"
    assert await snapshot(db) == before
    await db.execute("DELETE FROM cases WHERE id = $1", case_id)
    await api.ok("UpdateCaseStatus", {"ID": 5, "IsClosed": True}, STATUS_ADMIN)
    await api.ok("DeleteCaseStatus", {"ID": 5}, STATUS_ADMIN)
    err = await api.error("GetCaseStatus", {"ID": 5}, STATUS_ADMIN, 404)
    assert err["Code"] == "CaseStatus:NotFound"


async def test_statuses_filter_and_page(api: Api) -> None:
    for name in ("Escalated", "Waiting", "Waiting for parts"):
        await api.ok("CreateCaseStatus", {"Name": name}, STATUS_ADMIN)
    first = await api.ok(
        "ListCaseStatuses", {"InitialPageConfig": {"Limit": 1, "Filter": {"Name": "wait"}}}, STATUS_ADMIN
    )
    assert [s["Name"] for s in first["Results"]] == ["Waiting for parts"]
    second = await api.ok("ListCaseStatuses", {"PageToken": first["NextPageToken"]}, STATUS_ADMIN)
    assert [s["Name"] for s in second["Results"]] == ["Waiting"]
    assert "NextPageToken" not in second


# --- topics ---------------------------------------------------------------------------------------------


async def test_a_sub_topic_shows_its_path(api: Api) -> None:
    created = await api.ok(
        "CreateCaseTopic",
        {"Name": "Late delivery", "Description": "Where is it?", "BackendID": "LATE", "ParentID": 2},
        TOPIC_ADMIN,
    )
    assert created == {"ID": 8}
    expected = {
        "ID": 8,
        "Name": "Late delivery",
        "Description": "Where is it?",
        "ParentID": 2,
        "BackendID": "LATE",
        "DisplayName": "Shipping / Late delivery",
    }
    assert await api.ok("GetCaseTopic", {"ID": 8}, TOPIC_ADMIN) == expected
    listed = await api.ok("ListCaseTopics", {"InitialPageConfig": {"Filter": {"ParentID": 2}}}, TOPIC_ADMIN)
    assert listed == {"Results": [expected]}
    # Customers see the path too, but not the back-office ID.
    mine = await api.ok("ListCaseTopics", {"InitialPageConfig": {"Filter": {"ParentID": 2}}}, customer(5))
    assert mine == {"Results": [{k: v for k, v in expected.items() if k != "BackendID"}]}
    roots = await api.ok("ListCaseTopics", {"InitialPageConfig": {"Filter": {"RootOnly": True}}}, TOPIC_ADMIN)
    assert [t["ID"] for t in roots["Results"]] == [7, 6, 5, 4, 3, 2, 1]


async def test_topic_names_are_unique_among_siblings_only(api: Api, db: asyncpg.Connection) -> None:
    await api.ok("CreateCaseTopic", {"Name": "Refund", "ParentID": 4}, TOPIC_ADMIN)
    before = await snapshot(db)
    err = await api.error("CreateCaseTopic", {"Name": "REFUND", "ParentID": 4}, TOPIC_ADMIN, 409)
    assert (err["Code"], err["Type"]) == ("CaseTopic:TopicNameAlreadyExists", "Conflict")
    err = await api.error("CreateCaseTopic", {"Name": "shipping"}, TOPIC_ADMIN, 409)
    assert err["Code"] == "CaseTopic:TopicNameAlreadyExists"
    err = await api.error("UpdateCaseTopic", {"ID": 1, "Name": "Payment"}, TOPIC_ADMIN, 409)
    assert err["Code"] == "CaseTopic:TopicNameAlreadyExists"
    assert await snapshot(db) == before
    await api.ok("CreateCaseTopic", {"Name": "Refund", "ParentID": 3}, TOPIC_ADMIN)


async def test_a_topic_needs_a_live_parent_and_a_bounded_depth(api: Api, db: asyncpg.Connection) -> None:
    before = await snapshot(db)
    err = await api.error("CreateCaseTopic", {"Name": "Orphan", "ParentID": 99}, TOPIC_ADMIN, 404)
    assert err["Code"] == "CaseTopic:ParentNotFound"
    assert await snapshot(db) == before
    parent = 1
    for level in range(2, 11):  # levels 2..10 under the root topic Products
        parent = (await api.ok("CreateCaseTopic", {"Name": f"Level {level}", "ParentID": parent}, TOPIC_ADMIN))["ID"]
    before = await snapshot(db)
    err = await api.error("CreateCaseTopic", {"Name": "Level 11", "ParentID": parent}, TOPIC_ADMIN, 400)
    assert err["Code"] == "CaseTopic:MaximumDepthExceeded"
    assert await snapshot(db) == before
    deepest = await api.ok("GetCaseTopic", {"ID": parent}, TOPIC_ADMIN)
    assert deepest["DisplayName"] == "Products / " + " / ".join(f"Level {n}" for n in range(2, 11))


async def test_updating_a_topic_keeps_absent_fields_clears_null_ones_and_never_moves_it(api: Api) -> None:
    await api.ok("CreateCaseTopic", {"Name": "Refund", "Description": "Money back", "ParentID": 4}, TOPIC_ADMIN)
    await api.ok("UpdateCaseTopic", {"ID": 8, "Name": "Refunds", "BackendID": "RF", "ParentID": 1}, TOPIC_ADMIN)
    assert await api.ok("GetCaseTopic", {"ID": 8}, TOPIC_ADMIN) == {
        "ID": 8,
        "Name": "Refunds",
        "Description": "Money back",
        "ParentID": 4,
        "BackendID": "RF",
        "DisplayName": "Returns / Refunds",
    }
    await api.ok("UpdateCaseTopic", {"ID": 8, "Description": None}, TOPIC_ADMIN)
    assert "Description" not in await api.ok("GetCaseTopic", {"ID": 8}, TOPIC_ADMIN)
    err = await api.error("UpdateCaseTopic", {"ID": 8, "Name": None}, TOPIC_ADMIN, 400)
    assert err["Data"]["Field"] == "Name"


async def test_deleting_a_topic_deletes_its_sub_topics_but_not_its_cases(api: Api, db: asyncpg.Connection) -> None:
    late = (await api.ok("CreateCaseTopic", {"Name": "Late", "ParentID": 2}, TOPIC_ADMIN))["ID"]
    very = (await api.ok("CreateCaseTopic", {"Name": "Very late", "ParentID": late}, TOPIC_ADMIN))["ID"]
    case_id = await file_case(db, topic_id=very)
    await api.ok("DeleteCaseTopic", {"ID": 2}, TOPIC_ADMIN)
    for topic_id in (2, late, very):
        err = await api.error("GetCaseTopic", {"ID": topic_id}, TOPIC_ADMIN, 404)
        assert err["Code"] == "CaseTopic:NotFound"
    listed = await api.ok("ListCaseTopics", {}, TOPIC_ADMIN)
    assert [t["ID"] for t in listed["Results"]] == [7, 6, 5, 4, 3, 1]
    rows = await db.fetch("SELECT id, is_deleted FROM case_topics WHERE id IN (2, $1, $2) ORDER BY id", late, very)
    assert [tuple(r) for r in rows] == [(2, True), (late, True), (very, True)]
    assert await db.fetchval("SELECT topic_id FROM cases WHERE id = $1", case_id) == very
    # A deleted topic can no longer be picked, nor deleted again; its name is free again.
    err = await api.error(
        "CustomerCreateCase", {"Title": "Late again", "Description": "x", "TopicID": very}, customer(5), 404
    )
    assert err["Code"] == "CaseTopic:NotFound"
    await api.error("DeleteCaseTopic", {"ID": 2}, TOPIC_ADMIN, 404)
    await api.error("UpdateCaseTopic", {"ID": late, "Name": "Again"}, TOPIC_ADMIN, 404)
    assert (await api.ok("CreateCaseTopic", {"Name": "Shipping"}, TOPIC_ADMIN))["ID"] > very


# --- who may call ---------------------------------------------------------------------------------------

CATALOGUE_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("CreateCaseStatus", "CaseStatuses:Create", {"Name": "Extra"}),
    ("GetCaseStatus", "CaseStatuses:View", {"ID": 1}),
    ("UpdateCaseStatus", "CaseStatuses:Edit", {"ID": 1, "Color": "#FFF"}),
    ("DeleteCaseStatus", "CaseStatuses:Delete", {"ID": 5}),
    ("ListCaseStatuses", "CaseStatuses:View", {}),
    ("CreateCaseTopic", "CaseTopics:Create", {"Name": "Extra"}),
    ("GetCaseTopic", "CaseTopics:View", {"ID": 1}),
    ("UpdateCaseTopic", "CaseTopics:Edit", {"ID": 1, "Description": "All products"}),
    ("DeleteCaseTopic", "CaseTopics:Delete", {"ID": 7}),
]


@pytest.mark.parametrize(("service", "functionality", "body"), CATALOGUE_CALLS)
async def test_catalogue_services_need_their_functionality(
    api: Api, db: asyncpg.Connection, service: str, functionality: str, body: dict[str, Any]
) -> None:
    assert await db.fetchval("INSERT INTO case_statuses (name) VALUES ('Spare') RETURNING id") == 5
    before = await snapshot(db)
    others = [f for _, f, _ in CATALOGUE_CALLS if f != functionality]
    for tok in (employee(50, others), customer(51), employee(52, [functionality.split(":")[0] + ":None"])):
        err = await api.error(service, body, tok, 403)
        assert err["Type"] == "Forbidden"
    after = await snapshot(db)
    after["users"] = before["users"] = []  # callers are recorded just in time
    assert after == before
    await api.ok(service, body, employee(53, [functionality]))


# --- organization units ---------------------------------------------------------------------------------

UNIT_ADMIN = employee(42, ["OrganizationUnits:Manage"])


async def test_organization_units_are_set_listed_and_named_on_cases(api: Api, db: asyncpg.Connection) -> None:
    await api.ok("SetOrganizationUnit", {"ID": 10, "Name": "Store Utrecht", "BackendID": "S10"}, UNIT_ADMIN)
    await api.ok("SetOrganizationUnit", {"ID": 11, "Name": "Store Gouda"}, UNIT_ADMIN)
    await api.ok("SetOrganizationUnit", {"ID": 10, "Name": "Store Utrecht Centraal", "BackendID": "S10"}, UNIT_ADMIN)
    assert await api.ok("ListOrganizationUnits", {}, UNIT_ADMIN) == {
        "Results": [
            {"ID": 11, "Name": "Store Gouda"},
            {"ID": 10, "Name": "Store Utrecht Centraal", "BackendID": "S10"},
        ]
    }
    found = await api.ok("ListOrganizationUnits", {"InitialPageConfig": {"Filter": {"Name": "gouda"}}}, UNIT_ADMIN)
    assert [u["ID"] for u in found["Results"]] == [11]
    before = await snapshot(db)
    err = await api.error("SetOrganizationUnit", {"ID": 11, "Name": "Gouda", "BackendID": "S10"}, UNIT_ADMIN, 409)
    assert err["Code"] == "OrganizationUnit:BackendIDAlreadyExists"
    err = await api.error("SetOrganizationUnit", {"ID": 12, "Name": "X"}, employee(43, ["OrganizationUnits:View"]), 403)
    assert err["Type"] == "Forbidden"
    after = await snapshot(db)
    after["users"] = before["users"] = []
    assert after == before
    agent = employee(44, ["Cases:Manage"])
    case_id = (
        await api.ok(
            "CreateCase", {"Title": "T", "Description": "D", "TopicID": 1, "AssignedOrganizationUnitID": 11}, agent
        )
    )["ID"]
    listed = await api.ok("ListCases", {}, agent)
    assert listed["Results"][0]["AssignedOrganizationUnitName"] == "Store Gouda"
    assert (await api.ok("GetCaseByID", {"ID": case_id}, agent))["AssignedOrganizationUnitName"] == "Store Gouda"


# --- PushCase settings ----------------------------------------------------------------------------------


async def test_push_settings_have_their_defaults_and_change_through_the_services(
    api: Api, db: asyncpg.Connection
) -> None:
    admin = employee(45, ["PushCases:Settings"])
    defaults = {"AutoCreateTopic": True, "AutoCreateStatus": True, "MatchUnverifiedEmail": False}
    assert await api.ok("GetPushCaseSettings", {}, admin) == defaults
    await api.ok("SetPushCaseSettings", {"AutoCreateTopic": False}, admin)
    assert await api.ok("GetPushCaseSettings", {}, admin) == {**defaults, "AutoCreateTopic": False}
    await api.ok(
        "SetPushCaseSettings", {"AutoCreateTopic": True, "AutoCreateStatus": False, "MatchUnverifiedEmail": True}, admin
    )
    assert await api.ok("GetPushCaseSettings", {}, admin) == {
        "AutoCreateTopic": True,
        "AutoCreateStatus": False,
        "MatchUnverifiedEmail": True,
    }
    rows = await db.fetch("SELECT name, value::text, modified_by FROM settings ORDER BY name")
    assert [tuple(r) for r in rows] == [
        ("PushCases:AutoCreateStatus", "false", 45),
        ("PushCases:AutoCreateTopic", "true", 45),
        ("PushCases:MatchUnverifiedEmail", "true", 45),
    ]
    for tok in (employee(46, ["PushCases:None"]), employee(47, ["PushCases:Manage"]), customer(48)):
        await api.error("SetPushCaseSettings", {"AutoCreateTopic": False}, tok, 403)
    assert (await api.ok("GetPushCaseSettings", {}, employee(49, ["PushCases:All"])))["AutoCreateTopic"] is True
