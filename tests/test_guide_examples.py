"""Every example of EVA's guide that belongs to the customer journey replays against evacase."""

from __future__ import annotations

import asyncpg

from tests import guide_examples as guide
from tests.dbstate import normalized
from tests.factories import a_stored_blob
from tests.helpers import Api, customer

GUIDE_CUSTOMER = 5001
GUIDE_EMPLOYEE = 118744  # the employee who answers in the guide's example
CASE = guide.CUSTOMER_GET_CASE_BY_ID_RESPONSE


def guide_customer() -> str:
    # In the guide the ledger lines carry the name "Pedro Pascal": here the customer who opens the case.
    return customer(GUIDE_CUSTOMER, "Pedro", "Pascal")


async def create_guide_case(api: Api) -> int:
    """CustomerCreateCase with the guide's four properties (TopicID, Title, Description, OrderID)."""
    body = {"TopicID": CASE["TopicID"], "Title": CASE["Title"], "Description": CASE["Description"], "OrderID": 325}
    response = await api.ok("CustomerCreateCase", body, guide_customer())
    assert list(response) == ["ID"] and isinstance(response["ID"], int)
    return int(response["ID"])


async def employee_answers(db: asyncpg.Connection, case_id: int, text: str) -> None:
    """The guide's employee reply (employee services come with the employee issue: written directly here)."""
    await db.execute(
        "INSERT INTO users (id, user_type, first_name, last_name) VALUES ($1, 1, 'Pedro', 'Pascal')", GUIDE_EMPLOYEE
    )
    await db.execute(
        "INSERT INTO interactions (case_id, type, text, created_by, creation_time)"
        " VALUES ($1, 0, $2, $3, now() + interval '9 minutes')",
        case_id,
        text,
        GUIDE_EMPLOYEE,
    )


async def test_list_case_topics_with_an_empty_body_returns_the_guides_topics_exactly(api: Api) -> None:
    body = await api.ok("ListCaseTopics", {}, guide_customer())
    # evacase adds each topic's DisplayName (its path; the name for a root topic) for customers too, as the
    # employee issue asks; apart from that, the guide's answer exactly.
    assert [t.pop("DisplayName") for t in body["Results"]] == [
        t["Name"] for t in guide.LIST_CASE_TOPICS_RESPONSE["Results"]
    ]
    assert body == guide.LIST_CASE_TOPICS_RESPONSE


async def test_customer_create_case_returns_the_id_of_the_new_case(api: Api, db: asyncpg.Connection) -> None:
    case_id = await create_guide_case(api)
    row = await db.fetchrow("SELECT customer_id, topic_id, order_id, title, status_id FROM cases WHERE id=$1", case_id)
    assert dict(row) == {
        "customer_id": GUIDE_CUSTOMER,
        "topic_id": 1,
        "order_id": 325,
        "title": CASE["Title"],
        "status_id": 1,
    }


async def test_customer_list_cases_matches_the_guides_example(api: Api) -> None:
    await create_guide_case(api)
    body = await api.ok("CustomerListCases", {}, guide_customer())
    assert normalized(body) == normalized(guide.CUSTOMER_LIST_CASES_RESPONSE)


async def test_customer_get_case_by_id_matches_the_guides_example(api: Api, db: asyncpg.Connection) -> None:
    case_id = await create_guide_case(api)
    # The customer's photo, stored with StoreBlob before it is attached; the guide's GUID so the example replays.
    await a_stored_blob(db, GUIDE_CUSTOMER, CASE["BlobIDs"][0])
    await api.ok("CustomerAddBlobToCase", {"CaseID": case_id, "BlobID": CASE["BlobIDs"][0]}, guide_customer())
    body = await api.ok("CustomerGetCaseByID", {"ID": case_id}, guide_customer())
    # The contract adds IsTitleEditable and IsDescriptionEditable to the guide's fields.
    expected = dict(CASE, IsTitleEditable=True, IsDescriptionEditable=True)
    assert normalized(body) == normalized(expected)


async def test_customer_list_case_interactions_matches_the_guides_example(api: Api, db: asyncpg.Connection) -> None:
    case_id = await create_guide_case(api)
    expected = guide.CUSTOMER_LIST_CASE_INTERACTIONS_RESPONSE
    await employee_answers(db, case_id, expected["Results"][0]["Text"])
    body = await api.ok("CustomerListCaseInteractions", {"CaseID": case_id}, guide_customer())
    # Deliberate difference: the guide shows CanBeModified true on every line; customers never edit the
    # ledger or staff messages, so evacase says false for these three.
    expected_lines = [dict(line, CanBeModified=False) for line in expected["Results"]]
    assert normalized(body) == normalized({"Results": expected_lines})
    ids = [line["ID"] for line in body["Results"]]
    assert ids == sorted(ids, reverse=True)


async def test_customer_create_case_interaction_adds_a_message_the_customer_may_edit(api: Api) -> None:
    case_id = await create_guide_case(api)
    request = dict(guide.CUSTOMER_CREATE_CASE_INTERACTION_REQUEST, CaseID=case_id)
    created = await api.ok("CustomerCreateCaseInteraction", request, guide_customer())
    assert list(created) == ["ID"]
    body = await api.ok("CustomerListCaseInteractions", {"CaseID": case_id}, guide_customer())
    newest = body["Results"][0]
    assert normalized(newest) == {
        "ID": "<id>",
        "CaseID": "<id>",
        "Type": 0,
        "CanBeModified": True,
        "Text": "YourMessageHere",
        "CreationTime": "<time>",
        "CreatedByID": GUIDE_CUSTOMER,
        "CreatedBy": {"FirstName": "Pedro", "LastName": "Pascal", "FullName": "Pedro Pascal"},
    }
    assert newest["ID"] == created["ID"]
