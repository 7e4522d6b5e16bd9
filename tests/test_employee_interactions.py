"""Employee-side interactions, and the agent journey of the employee issue end to end."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from evacase.auth import UserType
from tests.dbstate import ISO_MS, ledger, snapshot
from tests.helpers import Api, customer, employee, token

AGENT_ID = 80
AGENT = employee(AGENT_ID, ["Cases:Manage"])
OTHER_AGENT = employee(81, ["Cases:Manage"])
CUSTOMER_ID = 82
CUSTOMER = customer(CUSTOMER_ID, "Cathy", "Client")


async def customer_case(api: Api) -> int:
    body = {"Title": "My parcel is late", "Description": "Ordered two weeks ago.", "TopicID": 2}
    case_id: int = (await api.ok("CustomerCreateCase", body, CUSTOMER))["ID"]
    return case_id


async def test_the_agent_journey(api: Api, db: asyncpg.Connection) -> None:
    case_id = await customer_case(api)
    listed = await api.ok("ListCases", {"InitialPageConfig": {"Filter": {"CustomerID": CUSTOMER_ID}}}, AGENT)
    assert [c["ID"] for c in listed["Results"]] == [case_id]
    assert listed["Results"][0]["Customer"] == {"FirstName": "Cathy", "LastName": "Client", "FullName": "Cathy Client"}
    await api.ok("UpdateCaseState", {"ID": case_id, "AssigneeID": AGENT_ID, "StatusID": 2}, AGENT)
    note = await api.ok(
        "CreateCaseInteraction", {"CaseID": case_id, "InteractionType": 1, "Text": "Courier lost it."}, AGENT
    )
    answer = await api.ok(
        "CreateCaseInteraction", {"CaseID": case_id, "InteractionType": 0, "Text": "We are sending a new one."}, AGENT
    )
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 3, "Solution": "Sent again."}, AGENT)

    # The customer sees the answer and the ledger, never the note, by any path.
    theirs = await api.ok("CustomerListCaseInteractions", {"CaseID": case_id}, CUSTOMER)
    texts = [(i["Type"], i["Text"]) for i in theirs["Results"]]
    assert texts == [
        (2, "Case solution updated"),  # lines of one change share their time: the later line comes first
        (2, "Case status set to `Completed`"),
        (0, "We are sending a new one."),
        (2, "Case assigned to `Pedro Pascal`"),
        (2, "Case status set to `InProgress`"),
        (2, "Case status set to `New`"),
        (2, "Case created with priority `Low`"),
    ]
    err = await api.error("CustomerGetCaseInteraction", {"ID": note["ID"]}, CUSTOMER, 404)
    assert err["Code"] == "CaseInteraction:NotFound"
    assert (await api.ok("CustomerGetCaseInteraction", {"ID": answer["ID"]}, CUSTOMER))["Text"] == (
        "We are sending a new one."
    )
    mine = await api.ok("CustomerGetCaseByID", {"ID": case_id}, CUSTOMER)
    assert mine["StatusName"] == "Completed" and ISO_MS.match(mine["ClosingTime"])

    # The agent sees everything, the note included.
    agent_view = await api.ok("ListCaseInteractions", {"CaseID": case_id}, AGENT)
    assert [i["InteractionType"] for i in agent_view["Results"][:4]] == [2, 2, 0, 1]
    assert agent_view["Results"][3]["CreatedBy"] == {
        "CreatedByID": AGENT_ID,
        "FirstName": "Pedro",
        "LastName": "Pascal",
        "FullName": "Pedro Pascal",
    }

    # Reopen clears the closing time; close again and archive.
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 2}, AGENT)
    assert "ClosingTime" not in await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 3}, AGENT)
    await api.ok("ArchiveCase", {"ID": case_id}, AGENT)
    assert (await api.ok("CustomerGetCaseByID", {"ID": case_id}, CUSTOMER))["ID"] == case_id
    assert await api.ok("ListCases", {}, AGENT) == {"Results": []}
    assert (await ledger(db, case_id))[-1] == "Case archived"
    assert not any("Courier" in line for line in await ledger(db, case_id))


async def test_an_interaction_reads_back_exactly(api: Api, db: asyncpg.Connection) -> None:
    case_id = await customer_case(api)
    created = await api.ok(
        "CreateCaseInteraction",
        {"CaseID": case_id, "InteractionType": 3, "Text": "Mail sent.", "BackendID": "MAIL-1"},
        AGENT,
    )
    body = await api.ok("GetCaseInteraction", {"ID": created["ID"]}, AGENT)
    assert ISO_MS.match(body.pop("CreationTime"))
    assert body == {
        "ID": created["ID"],
        "CaseID": case_id,
        "InteractionType": 3,
        "Text": "Mail sent.",
        "BackendID": "MAIL-1",
        "CanBeMutated": True,
    }
    assert not (await api.ok("GetCaseInteraction", {"ID": created["ID"]}, OTHER_AGENT))["CanBeMutated"]
    last = await db.fetchval("SELECT last_interaction_time FROM cases WHERE id = $1", case_id)
    created_at = await db.fetchval("SELECT creation_time FROM interactions WHERE id = $1", created["ID"])
    assert last == created_at
    err = await api.error(
        "CreateCaseInteraction", {"CaseID": case_id, "Text": "Again", "BackendID": "MAIL-1"}, AGENT, 409
    )
    assert err["Code"] == "CaseInteraction:BackendIDAlreadyExists"


@pytest.mark.parametrize("kind", [2, 4])
async def test_ledger_and_callback_interactions_cannot_be_created(api: Api, db: asyncpg.Connection, kind: int) -> None:
    case_id = await customer_case(api)
    before = await snapshot(db)
    err = await api.error(
        "CreateCaseInteraction", {"CaseID": case_id, "InteractionType": kind, "Text": "x"}, AGENT, 400
    )
    assert err["Code"] == "CaseInteraction:InteractionTypeNotAllowed"
    after = await snapshot(db)
    after["users"] = before["users"] = []
    assert after == before


async def test_only_the_author_changes_an_interaction(api: Api, db: asyncpg.Connection) -> None:
    case_id = await customer_case(api)
    note = (await api.ok("CreateCaseInteraction", {"CaseID": case_id, "InteractionType": 1, "Text": "v1"}, AGENT))["ID"]
    later = (await api.ok("CreateCaseInteraction", {"CaseID": case_id, "Text": "Later"}, AGENT))["ID"]
    for service, body, code in [
        ("UpdateCaseInteraction", {"ID": note, "Text": "v2"}, "CaseInteraction:CanOnlyUpdateOwnInteraction"),
        ("DeleteCaseInteraction", {"ID": note}, "CaseInteraction:CanOnlyDeleteOwnInteraction"),
    ]:
        err = await api.error(service, body, OTHER_AGENT, 403)
        assert err["Code"] == code
    ledger_line = await db.fetchval("SELECT id FROM interactions WHERE case_id = $1 AND type = 2 LIMIT 1", case_id)
    err = await api.error("UpdateCaseInteraction", {"ID": ledger_line, "Text": "rewritten"}, AGENT, 403)
    assert err["Code"] == "CaseInteraction:CanOnlyUpdateOwnInteraction"
    await api.ok("UpdateCaseInteraction", {"ID": note, "Text": "v2", "BackendID": "N-1"}, AGENT)
    body = await api.ok("GetCaseInteraction", {"ID": note}, AGENT)
    assert (body["Text"], body["BackendID"], ISO_MS.match(body["LastModificationTime"]) is not None) == (
        "v2",
        "N-1",
        True,
    )
    # Deleting the latest interaction moves the case's last interaction time back to the one before.
    await api.ok("DeleteCaseInteraction", {"ID": later}, AGENT)
    await api.error("GetCaseInteraction", {"ID": later}, AGENT, 404)
    last = await db.fetchval("SELECT last_interaction_time FROM cases WHERE id = $1", case_id)
    assert last == await db.fetchval("SELECT creation_time FROM interactions WHERE id = $1", note)


async def test_interactions_follow_the_cases_visibility_and_archiving(api: Api, db: asyncpg.Connection) -> None:
    case_id = await customer_case(api)
    await db.execute("UPDATE cases SET assigned_organization_unit_id = 20 WHERE id = $1", case_id)
    store = employee(83, ["Cases:Manage"], organization_units=[10])
    err = await api.error("CreateCaseInteraction", {"CaseID": case_id, "Text": "Hello"}, store, 404)
    assert err["Code"] == "Case:NotFound"
    err = await api.error("ListCaseInteractions", {"CaseID": case_id}, store, 404)
    assert err["Code"] == "Case:NotFound"
    line = await db.fetchval("SELECT id FROM interactions WHERE case_id = $1 LIMIT 1", case_id)
    await api.error("GetCaseInteraction", {"ID": line}, store, 404)
    note = (await api.ok("CreateCaseInteraction", {"CaseID": case_id, "Text": "Closed but still here"}, AGENT))["ID"]
    await db.execute("UPDATE cases SET status_id = 3, closing_time = now(), is_archived = true WHERE id = $1", case_id)
    err = await api.error("CreateCaseInteraction", {"CaseID": case_id, "Text": "Too late"}, AGENT, 409)
    assert err["Code"] == "Case:CaseIsArchived"
    err = await api.error("UpdateCaseInteraction", {"ID": note, "Text": "Too late"}, AGENT, 409)
    assert err["Code"] == "Case:CaseIsArchived"
    assert not (await api.ok("GetCaseInteraction", {"ID": note}, AGENT))["CanBeMutated"]


async def test_list_case_interactions_filters_and_pages(api: Api) -> None:
    case_id = await customer_case(api)
    for n in range(3):
        await api.ok("CreateCaseInteraction", {"CaseID": case_id, "InteractionType": 1, "Text": f"Note {n}"}, AGENT)
    notes = await api.ok(
        "ListCaseInteractions",
        {"CaseID": case_id, "InitialPageConfig": {"Limit": 2, "Filter": {"InteractionType": 1}}},
        AGENT,
    )
    assert [i["Text"] for i in notes["Results"]] == ["Note 2", "Note 1"]
    rest = await api.ok("ListCaseInteractions", {"CaseID": case_id, "PageToken": notes["NextPageToken"]}, AGENT)
    assert [i["Text"] for i in rest["Results"]] == ["Note 0"]
    found = await api.ok(
        "ListCaseInteractions", {"CaseID": case_id, "InitialPageConfig": {"Filter": {"Text": "NOTE 1"}}}, AGENT
    )
    assert [i["Text"] for i in found["Results"]] == ["Note 1"]
    err = await api.error("ListCaseInteractions", {"CaseID": 999}, AGENT, 404)
    assert err["Code"] == "Case:NotFound"


INTERACTION_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("CreateCaseInteraction", "Cases:Edit", {"CaseID": 1, "Text": "Hi"}),
    ("GetCaseInteraction", "Cases:View", {"ID": 1}),
    ("ListCaseInteractions", "Cases:View", {"CaseID": 1}),
]


@pytest.mark.parametrize(("service", "functionality", "body"), INTERACTION_CALLS)
async def test_interaction_services_need_their_functionality(
    api: Api, db: asyncpg.Connection, service: str, functionality: str, body: dict[str, Any]
) -> None:
    await customer_case(api)
    before = await snapshot(db)
    for tok in (employee(90, ["Cases:Delete"]), CUSTOMER, token(91, UserType.API, [])):
        err = await api.error(service, body, tok, 403)
        assert err["Type"] == "Forbidden"
    after = await snapshot(db)
    after["users"] = before["users"] = []
    assert after == before
    await api.ok(service, body, token(92, UserType.API, [functionality]))
