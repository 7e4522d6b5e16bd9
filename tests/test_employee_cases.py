"""Employee-side cases: CreateCase, GetCaseByID, ListCases, UpdateCase, UpdateCaseState, UpdateCaseSummary,
ArchiveCase — their rules, their ledger lines, and organization-unit visibility."""

from __future__ import annotations

import itertools
from typing import Any

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evacase.auth import UserType
from tests.dbstate import ISO_MS, ledger, normalized, snapshot
from tests.helpers import Api, customer, employee, token
from tests.strategies import PROPERTY_SETTINGS

_examples = itertools.count()
# Topic names as people type them: any letters, spaces and the path's own separator inside.
topic_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40).map(
    lambda name: name.strip() or "x"
)

AGENT_ID = 60
AGENT = employee(AGENT_ID, ["Cases:Manage"])
CUSTOMER_ID = 61
CUSTOMER = customer(CUSTOMER_ID, "Cathy", "Client")


async def known(api: Api, *tokens: str) -> None:
    """Callers are recorded on their first call."""
    for tok in tokens:
        await api.ok("Ping", {}, tok)


async def new_case(api: Api, **fields: Any) -> int:
    body = {"Title": "Broken zipper", "Description": "The zipper broke on day one.", "TopicID": 1, **fields}
    case_id: int = (await api.ok("CreateCase", body, AGENT))["ID"]
    return case_id


async def test_an_employee_creates_a_case_and_reads_the_full_view(api: Api, db: asyncpg.Connection) -> None:
    await known(api, CUSTOMER)
    await db.execute("INSERT INTO organization_units (id, backend_id, name) VALUES (10, 'S10', 'Store Utrecht')")
    await api.ok(
        "CreateCaseTopic", {"Name": "Zippers", "ParentID": 1, "BackendID": "ZIP"}, employee(1, ["CaseTopics:Create"])
    )
    case_id = await new_case(
        api,
        TopicID=8,
        CustomerID=CUSTOMER_ID,
        Priority=2,
        AssigneeID=AGENT_ID,
        BackendID="HD-1",
        ExternalOrderIdentifier="WEB-1001",
        AssignedOrganizationUnitID=10,
        OriginatingOrganizationUnitID=11,
    )
    body = await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    assert ISO_MS.match(body.pop("AssignedOn"))
    assert (body["Customer"]["ID"], body["CreatedBy"]["ID"], body["LastModifiedBy"]["ID"]) == (
        CUSTOMER_ID,
        AGENT_ID,
        AGENT_ID,
    )
    assert normalized(body) == {
        "ID": "<id>",
        "Title": "Broken zipper",
        "Description": "The zipper broke on day one.",
        "Priority": 2,
        "StatusID": 1,
        "StatusName": "New",
        "CaseTopic": {
            "TopicID": 8,
            "TopicName": "Zippers",
            "TopicBackendID": "ZIP",
            "TopicDisplayName": "Products / Zippers",
            "IsDeleted": False,
            "CaseTopic": {"TopicID": 1, "TopicName": "Products", "TopicDisplayName": "Products", "IsDeleted": False},
        },
        "Customer": {"ID": "<id>", "FirstName": "Cathy", "LastName": "Client", "FullName": "Cathy Client"},
        "AssigneeID": AGENT_ID,
        "AssigneeName": "Pedro Pascal",
        "AssignedOrganizationUnitID": 10,
        "AssignedOrganizationUnitName": "Store Utrecht",
        "OriginatingOrganizationUnitID": 11,
        "BackendID": "HD-1",
        "ExternalOrderIdentifier": "WEB-1001",
        "IsWarranty": False,
        "IsArchived": False,
        "IsTitleEditable": True,
        "IsDescriptionEditable": True,
        "ReportingTime": "<time>",
        "CreationTime": "<time>",
        "CreatedBy": {"ID": "<id>", "FirstName": "Pedro", "LastName": "Pascal", "FullName": "Pedro Pascal"},
        "LastModificationTime": "<time>",
        "LastModifiedBy": {"ID": "<id>", "FirstName": "Pedro", "LastName": "Pascal", "FullName": "Pedro Pascal"},
        "Origin": "Api",
    }
    assert await ledger(db, case_id) == [
        "Case created with priority `High`",
        "Case status set to `New`",
        "Case assigned to `Pedro Pascal`",
    ]


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"TopicID": None}, 400, "Case:CaseTopicIsRequiredForCase"),
        ({"TopicID": 99}, 404, "CaseTopic:NotFound"),
        ({"CustomerID": 999}, 404, "User:NotFound"),
        ({"Priority": 5}, 400, "Case:InvalidPriority"),
        ({"AssigneeID": CUSTOMER_ID}, 400, "Case:AssigneeIsInvalidUserTypeToAssignToCase"),
        ({"AssigneeID": 999}, 404, "User:NotFound"),
        ({"Title": ""}, 400, "RequestValidationFailure"),
        ({"Title": "x" * 256}, 400, "RequestValidationFailure"),
        ({"ExternalOrderIdentifier": ""}, 400, "RequestValidationFailure"),
        ({"CustomFields": [{"CustomFieldID": 1}]}, 400, "CustomFields:UnknownFieldForType"),
    ],
)
async def test_create_case_refuses_bad_input_and_writes_nothing(
    api: Api, db: asyncpg.Connection, fields: dict[str, Any], status: int, code: str
) -> None:
    await known(api, CUSTOMER, AGENT)
    before = await snapshot(db)
    body = {"Title": "Broken zipper", "Description": "It broke.", "TopicID": 1, **fields}
    err = await api.error("CreateCase", body, AGENT, status)
    assert err["Code"] == code
    assert await snapshot(db) == before


async def test_a_title_of_255_characters_is_fine_for_employees(api: Api) -> None:
    case_id = await new_case(api, Title="x" * 255)
    assert (await api.ok("GetCaseByID", {"ID": case_id}, AGENT))["Title"] == "x" * 255


async def test_the_state_machine_of_a_case(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    answer = await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 2, "Priority": 1}, AGENT)
    assert answer == {"StatusAction": 0}
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 3, "Solution": "Sent a new one."}, AGENT)
    closed = await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    assert closed["StatusName"] == "Completed" and closed["Solution"] == "Sent a new one."
    assert "ClosingTime" in closed and not closed["IsTitleEditable"]
    # A closed case is read-only until reopened; it can never go back to New.
    before = await snapshot(db)
    err = await api.error("UpdateCase", {"ID": case_id, "Title": "Changed"}, AGENT, 409)
    assert err["Code"] == "Case:CaseAlreadyClosed"
    err = await api.error("UpdateCaseState", {"ID": case_id, "StatusID": 1}, AGENT, 409)
    assert err["Code"] == "Case:CannotRevertCaseStatusToNewStatus"
    assert await snapshot(db) == before
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 2, "Solution": None}, AGENT)
    reopened = await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    assert "ClosingTime" not in reopened and "Solution" not in reopened
    assert await ledger(db, case_id) == [
        "Case created with priority `Low`",
        "Case status set to `New`",
        "Case status set to `InProgress`",
        "Case priority set to `Medium`",
        "Case status set to `Completed`",
        "Case solution updated",
        "Case status set to `InProgress`",
        "Case solution removed",
    ]


async def test_assigning_and_unassigning(api: Api, db: asyncpg.Connection) -> None:
    other = token(62, UserType.SYSTEM, [], "Sys", "Tem")
    await known(api, other, CUSTOMER)
    case_id = await new_case(api)
    await api.ok("UpdateCaseState", {"ID": case_id, "AssigneeID": 62}, AGENT)
    assigned = await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    assert (assigned["AssigneeID"], assigned["AssigneeName"]) == (62, "Sys Tem") and "AssignedOn" in assigned
    err = await api.error("UpdateCaseState", {"ID": case_id, "AssigneeID": CUSTOMER_ID}, AGENT, 400)
    assert err["Code"] == "Case:AssigneeIsInvalidUserTypeToAssignToCase"
    await api.ok("UpdateCaseState", {"ID": case_id, "AssigneeID": None}, AGENT)
    unassigned = await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    assert "AssigneeID" not in unassigned and "AssignedOn" not in unassigned
    assert (await ledger(db, case_id))[2:] == ["Case assigned to `Sys Tem`", "Case unassigned"]


async def test_update_case_keeps_absent_fields_and_clears_null_ones(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api, BackendID="HD-2", ExternalOrderIdentifier="WEB-2")
    await api.ok("UpdateCase", {"ID": case_id, "Title": "Broken zip", "BackendID": None, "TopicID": 2}, AGENT)
    body = await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    assert (body["Title"], body["ExternalOrderIdentifier"], body["CaseTopic"]["TopicID"]) == ("Broken zip", "WEB-2", 2)
    assert "BackendID" not in body
    assert (await ledger(db, case_id))[2:] == [
        "Case title set to `Broken zip`",
        "Case topic set to `Shipping`",
        "Case backend ID removed",
    ]
    await api.ok("UpdateCase", {"ID": case_id, "OriginatingOrganizationUnitID": 5}, AGENT)
    err = await api.error("UpdateCase", {"ID": case_id, "OriginatingOrganizationUnitID": 6}, AGENT, 409)
    assert err["Code"] == "Case:OriginatingOrganizationUnitCanOnlyBeSetOnce"


async def test_the_summary_remembers_who_wrote_it(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    await api.ok("UpdateCaseSummary", {"ID": case_id, "Summary": "Customer wants a refund."}, AGENT)
    body = await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    assert (body["Summary"], body["SummaryLastModifiedByID"]) == ("Customer wants a refund.", AGENT_ID)
    assert "SummaryLastModificationDate" in body
    assert (await ledger(db, case_id))[-1] == "Case summary updated"


async def test_only_closed_cases_are_archived_and_then_leave_the_list(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    err = await api.error("ArchiveCase", {"ID": case_id}, AGENT, 409)
    assert err["Code"] == "Case:CanOnlyArchiveClosedCases"
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 4}, AGENT)
    await api.ok("ArchiveCase", {"ID": case_id}, AGENT)
    assert (await api.ok("GetCaseByID", {"ID": case_id}, AGENT))["IsArchived"] is True
    assert await api.ok("ListCases", {}, AGENT) == {"Results": []}
    err = await api.error("UpdateCaseState", {"ID": case_id, "StatusID": 2}, AGENT, 409)
    assert err["Code"] == "Case:CaseIsArchived"
    assert (await ledger(db, case_id))[-1] == "Case archived"


async def test_list_cases_filters_and_pages(api: Api, db: asyncpg.Connection) -> None:
    await known(api, CUSTOMER)
    a = await new_case(api, Title="Zipper A", CustomerID=CUSTOMER_ID, Priority=1, BackendID="A")
    b = await new_case(api, Title="Zipper B", TopicID=2, ExternalOrderIdentifier="WEB-B", AssignedOrganizationUnitID=7)
    c = await new_case(api, Title="Button C", AssigneeID=AGENT_ID, OriginatingOrganizationUnitID=8)
    await db.execute("UPDATE cases SET order_id = 77 WHERE id = $1", c)
    await api.ok("UpdateCaseState", {"ID": b, "StatusID": 2}, AGENT)

    async def ids(**filter: Any) -> list[int]:
        body = await api.ok("ListCases", {"InitialPageConfig": {"Filter": filter}}, AGENT)
        return [r["ID"] for r in body["Results"]]

    assert await ids() == [c, b, a]
    assert await ids(Title="zipper") == [b, a]
    assert await ids(ID=b) == [b]
    assert await ids(BackendID="A") == [a]
    assert await ids(TopicID=2) == [b]
    assert await ids(StatusID=2) == [b]
    assert await ids(Priority=1) == [a]
    assert await ids(CustomerID=CUSTOMER_ID) == [a]
    assert await ids(AssigneeID=AGENT_ID) == [c]
    assert await ids(AssignedOrganizationUnitID=7) == [b]
    assert await ids(OriginatingOrganizationUnitID=8) == [c]
    assert await ids(OrderID=77) == [c]
    assert await ids(ExternalOrderIdentifier="WEB-B") == [b]
    assert await ids(Title="zipper", Priority=1) == [a]
    first = await api.ok("ListCases", {"InitialPageConfig": {"Limit": 2}}, AGENT)
    assert [r["ID"] for r in first["Results"]] == [c, b]
    second = await api.ok("ListCases", {"PageToken": first["NextPageToken"]}, AGENT)
    assert [r["ID"] for r in second["Results"]] == [a] and "NextPageToken" not in second
    back = await api.ok("ListCases", {"PageToken": second["PreviousPageToken"]}, AGENT)
    assert [r["ID"] for r in back["Results"]] == [c, b]
    item = first["Results"][1]
    assert normalized(item) == {
        "ID": "<id>",
        "Title": "Zipper B",
        "Priority": 0,
        "StatusID": 2,
        "StatusName": "InProgress",
        "TopicID": 2,
        "TopicName": "Shipping",
        "AssignedOrganizationUnitID": 7,
        "ExternalOrderIdentifier": "WEB-B",
        "ReportingTime": "<time>",
        "CreationTime": "<time>",
        "LastModificationTime": "<time>",
        "CreatedBy": {"ID": "<id>", "FirstName": "Pedro", "LastName": "Pascal", "FullName": "Pedro Pascal"},
        "LastModifiedBy": {"ID": "<id>", "FirstName": "Pedro", "LastName": "Pascal", "FullName": "Pedro Pascal"},
        "Origin": "Api",
    }
    assert (item["CreatedBy"]["ID"], item["LastModifiedBy"]["ID"]) == (AGENT_ID, AGENT_ID)


async def test_organization_units_limit_what_an_employee_sees_and_does(api: Api, db: asyncpg.Connection) -> None:
    free = await new_case(api)
    mine = await new_case(api, AssignedOrganizationUnitID=10)
    theirs = await new_case(api, AssignedOrganizationUnitID=20)
    store = employee(63, ["Cases:Manage"], organization_units=[10])
    listed = await api.ok("ListCases", {}, store)
    assert [r["ID"] for r in listed["Results"]] == [mine, free]
    assert (await api.ok("GetCaseByID", {"ID": mine}, store))["ID"] == mine
    before = await snapshot(db)
    for service, body in [
        ("GetCaseByID", {"ID": theirs}),
        ("UpdateCase", {"ID": theirs, "Title": "Mine now"}),
        ("UpdateCaseState", {"ID": theirs, "StatusID": 2}),
        ("UpdateCaseSummary", {"ID": theirs, "Summary": "Hmm"}),
        ("ArchiveCase", {"ID": theirs}),
    ]:
        err = await api.error(service, body, store, 404)
        assert err["Code"] == "Case:NotFound"
    err = await api.error("UpdateCase", {"ID": free, "AssignedOrganizationUnitID": 20}, store, 403)
    assert err["Code"] == "Case:OrganizationUnitNotAllowed"
    err = await api.error(
        "CreateCase", {"Title": "T", "Description": "D", "TopicID": 1, "AssignedOrganizationUnitID": 20}, store, 403
    )
    assert err["Code"] == "Case:OrganizationUnitNotAllowed"
    after = await snapshot(db)
    after["users"] = before["users"] = []
    assert after == before
    # An empty list: only cases without a unit.
    nowhere = employee(64, ["Cases:View"], organization_units=[])
    assert [r["ID"] for r in (await api.ok("ListCases", {}, nowhere))["Results"]] == [free]


CASE_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("CreateCase", "Cases:Create", {"Title": "T", "Description": "D", "TopicID": 1}),
    ("GetCaseByID", "Cases:View", {"ID": 1}),
    ("ListCases", "Cases:View", {}),
    ("UpdateCase", "Cases:Edit", {"ID": 1, "Title": "New title"}),
    ("UpdateCaseState", "Cases:Edit", {"ID": 1, "StatusID": 2}),
    ("UpdateCaseSummary", "Cases:Edit", {"ID": 1, "Summary": "S"}),
    ("ArchiveCase", "Cases:Delete", {"ID": 2}),
]


@pytest.mark.parametrize(("service", "functionality", "body"), CASE_CALLS)
async def test_case_services_need_their_functionality(
    api: Api, db: asyncpg.Connection, service: str, functionality: str, body: dict[str, Any]
) -> None:
    await new_case(api)
    closed = await new_case(api)
    await api.ok("UpdateCaseState", {"ID": closed, "StatusID": 3}, AGENT)
    before = await snapshot(db)
    others = [f for _, f, _ in CASE_CALLS if f != functionality]
    for tok in (employee(70, others), customer(71), token(72, UserType.API, [])):
        err = await api.error(service, body, tok, 403)
        assert err["Type"] == "Forbidden"
    after = await snapshot(db)
    after["users"] = before["users"] = []
    assert after == before
    await api.ok(service, body, token(73, UserType.API, [functionality]))


@PROPERTY_SETTINGS
@given(depth=st.integers(min_value=1, max_value=6), names=st.lists(topic_names, min_size=6, max_size=6))
async def test_the_topic_chains_display_names_are_the_databases_topic_paths(
    api: Api, db: asyncpg.Connection, depth: int, names: list[str]
) -> None:
    """GetCaseByID joins each display name from the chain itself: for any depth and names, what topic_path says."""
    parent, example = None, next(_examples)  # the database outlives one example: names unique among siblings
    for n in range(depth):
        parent = await db.fetchval(
            "INSERT INTO case_topics (parent_id, name) VALUES ($1, $2) RETURNING id", parent, f"{names[n]} {example}"
        )
    case_id = await db.fetchval(
        "INSERT INTO cases (topic_id, status_id, title) VALUES ($1, 1, 't') RETURNING id", parent
    )
    shown = []
    topic = (await api.ok("GetCaseByID", {"ID": case_id}, employee(930, ["Cases:View"])))["CaseTopic"]
    while topic is not None:
        shown.append((topic["TopicID"], topic["TopicDisplayName"]))
        topic = topic.get("CaseTopic")
    paths = await db.fetch("SELECT x.id, topic_path(x.id) FROM topic_ancestry($1) x ORDER BY x.depth", parent)
    assert shown == [tuple(r) for r in paths]
