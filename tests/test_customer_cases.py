"""Customers create, update, read and list their own cases; every change leaves a ledger line."""

from __future__ import annotations

import asyncpg
import pytest

from tests.dbstate import ledger, snapshot
from tests.helpers import Api, customer

ALICE, BOB = 101, 102


async def new_case(api: Api, who: int = ALICE, **fields: object) -> int:
    body = {"TopicID": 1, "Title": "Broken zipper", "Description": "The zipper broke on day one."}
    body.update(fields)
    return int((await api.ok("CustomerCreateCase", body, customer(who)))["ID"])


async def test_create_writes_the_case_and_its_opening_ledger_lines(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api, OrderID=77)
    row = await db.fetchrow("SELECT * FROM cases WHERE id = $1", case_id)
    assert row is not None
    assert (row["customer_id"], row["topic_id"], row["status_id"], row["priority"]) == (ALICE, 1, 1, 0)
    assert (row["title"], row["description"], row["order_id"]) == (
        "Broken zipper",
        "The zipper broke on day one.",
        77,
    )
    assert (row["created_by"], row["last_modified_by"], row["assignee_id"], row["closing_time"]) == (
        ALICE,
        ALICE,
        None,
        None,
    )
    assert await ledger(db, case_id) == ["Case created with priority `Low`", "Case status set to `New`"]
    user = await db.fetchrow("SELECT user_type, first_name, last_name FROM users WHERE id = $1", ALICE)
    assert dict(user) == {"user_type": 2, "first_name": "Jane", "last_name": "Doe"}


async def test_topic_is_required_with_evas_code(api: Api, db: asyncpg.Connection) -> None:
    before = await snapshot(db)
    err = await api.error("CustomerCreateCase", {"Title": "Hello there", "Description": "d"}, customer(ALICE), 400)
    assert (err["Code"], err["Message"]) == (
        "Case:CaseTopicIsRequiredForCase",
        "TopicID is required: every case needs a topic.",
    )
    assert await snapshot(db) == before


async def test_an_unknown_topic_is_404_and_nothing_is_written(api: Api, db: asyncpg.Connection) -> None:
    await api.ok("Ping", {}, customer(ALICE))  # record the user first so the snapshot compares only case data
    before = await snapshot(db)
    body = {"TopicID": 999, "Title": "Hello there", "Description": "d"}
    err = await api.error("CustomerCreateCase", body, customer(ALICE), 404)
    assert err["Code"] == "CaseTopic:NotFound"
    assert await snapshot(db) == before


async def test_a_deleted_topic_cannot_be_chosen(api: Api, db: asyncpg.Connection) -> None:
    await db.execute("UPDATE case_topics SET is_deleted = true WHERE id = 3")
    err = await api.error("CustomerCreateCase", {"TopicID": 3, "Title": "Hello", "Description": "d"}, customer(1), 404)
    assert err["Code"] == "CaseTopic:NotFound"


async def test_an_order_known_to_belong_to_another_customer_is_404(api: Api, db: asyncpg.Connection) -> None:
    await db.execute("INSERT INTO users (id, user_type) VALUES ($1, 2), ($2, 2)", ALICE, BOB)
    await db.execute("INSERT INTO orders (id, customer_id) VALUES (500, $1), (501, $2)", BOB, ALICE)
    before = await snapshot(db)
    err = await api.error(
        "CustomerCreateCase",
        {"TopicID": 1, "Title": "Hello there", "Description": "d", "OrderID": 500},
        customer(ALICE),
        404,
    )
    assert err["Code"] == "Order:NotFound"
    assert await snapshot(db) == before
    own = await new_case(api, OrderID=501)
    unknown = await new_case(api, OrderID=9999)
    rows = await db.fetch("SELECT id, order_id FROM cases ORDER BY id")
    assert [(r["id"], r["order_id"]) for r in rows] == [(own, 501), (unknown, 9999)]


async def test_update_changes_title_description_and_topic_with_ledger_lines(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    body = {"ID": case_id, "Title": "Broken zipper again", "Description": "Still broken.", "TopicID": 4}
    assert await api.ok("CustomerUpdateCase", body, customer(ALICE)) == {}
    row = await db.fetchrow("SELECT title, description, topic_id FROM cases WHERE id = $1", case_id)
    assert dict(row) == {"title": "Broken zipper again", "description": "Still broken.", "topic_id": 4}
    assert (await ledger(db, case_id))[2:] == [
        "Case title set to `Broken zipper again`",
        "Case description updated",
        "Case topic set to `Returns`",
    ]


async def test_update_with_only_some_fields_keeps_the_others(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    await api.ok("CustomerUpdateCase", {"ID": case_id, "Description": "New words."}, customer(ALICE))
    row = await db.fetchrow("SELECT title, description, topic_id FROM cases WHERE id = $1", case_id)
    assert dict(row) == {"title": "Broken zipper", "description": "New words.", "topic_id": 1}
    assert (await ledger(db, case_id))[2:] == ["Case description updated"]


async def test_update_without_changes_writes_no_ledger_line(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    await api.ok("CustomerUpdateCase", {"ID": case_id, "Title": "Broken zipper"}, customer(ALICE))
    assert len(await ledger(db, case_id)) == 2


async def test_update_refuses_null_for_fields_that_cannot_be_null(api: Api) -> None:
    case_id = await new_case(api)
    err = await api.error("CustomerUpdateCase", {"ID": case_id, "Title": None}, customer(ALICE), 400)
    assert (err["Message"], err["Data"]) == ("Title must be a string, got null", {"Field": "Title"})


async def test_order_id_cannot_be_changed_by_an_update(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api, OrderID=5)
    await api.ok("CustomerUpdateCase", {"ID": case_id, "OrderID": 6, "Title": "Another title"}, customer(ALICE))
    assert await db.fetchval("SELECT order_id FROM cases WHERE id = $1", case_id) == 5


async def test_title_and_description_are_locked_once_assigned(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    await db.execute("INSERT INTO users (id, user_type) VALUES (900, 1)")
    await db.execute("UPDATE cases SET assignee_id = 900, assigned_on = now() WHERE id = $1", case_id)
    before = await snapshot(db)
    err = await api.error("CustomerUpdateCase", {"ID": case_id, "Title": "Other title"}, customer(ALICE), 409)
    assert err["Code"] == "Case:CannotUpdateTitleOrDescriptionAfterAssignment"
    assert await snapshot(db) == before
    got = await api.ok("CustomerGetCaseByID", {"ID": case_id}, customer(ALICE))
    assert (got["IsTitleEditable"], got["IsDescriptionEditable"], got["DescriptionCanBeModified"]) == (
        False,
        False,
        False,
    )
    # The topic may still change while the case is open.
    await api.ok("CustomerUpdateCase", {"ID": case_id, "TopicID": 2}, customer(ALICE))
    assert await db.fetchval("SELECT topic_id FROM cases WHERE id = $1", case_id) == 2


async def test_a_closed_case_cannot_be_updated(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    await db.execute("UPDATE cases SET status_id = 3, closing_time = now() WHERE id = $1", case_id)
    before = await snapshot(db)
    err = await api.error("CustomerUpdateCase", {"ID": case_id, "TopicID": 2}, customer(ALICE), 409)
    assert (err["Code"], err["Type"]) == ("Case:CaseAlreadyClosed", "Conflict")
    assert await snapshot(db) == before


async def test_get_case_shows_closing_time_and_solution_of_a_closed_case(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    await db.execute(
        "UPDATE cases SET status_id = 3, closing_time = '2024-05-06T07:08:09.123Z', solution = 'Replaced',"
        " is_warranty = true, priority = 9 WHERE id = $1",
        case_id,
    )
    got = await api.ok("CustomerGetCaseByID", {"ID": case_id}, customer(ALICE))
    reporting = got.pop("ReportingTime")
    assert reporting.endswith("Z") and len(reporting) == 24
    assert got == {
        "ID": case_id,
        "TopicID": 1,
        "TopicName": "Products",
        "StatusID": 3,
        "StatusName": "Completed",
        "Priority": 9,
        "Title": "Broken zipper",
        "Description": "The zipper broke on day one.",
        "IsWarranty": True,
        "ClosingTime": "2024-05-06T07:08:09.123Z",
        "Solution": "Replaced",
        "DescriptionCanBeModified": False,
        "IsTitleEditable": False,
        "IsDescriptionEditable": False,
    }


async def test_list_cases_shows_only_the_callers_cases_newest_first(api: Api) -> None:
    mine = [await new_case(api, ALICE, Title=f"Alice case {i}") for i in range(3)]
    await new_case(api, BOB, Title="Bob's case")
    body = await api.ok("CustomerListCases", {}, customer(ALICE))
    assert [c["ID"] for c in body["Results"]] == mine[::-1]
    assert "NextPageToken" not in body and "PreviousPageToken" not in body


async def test_list_cases_filters_on_title_case_insensitively_and_literally(api: Api) -> None:
    a = await new_case(api, Title="Zipper broken")
    await new_case(api, Title="Wrong colour")
    b = await new_case(api, Title="100% wrong zipper")
    tok = customer(ALICE)
    body = await api.ok("CustomerListCases", {"InitialPageConfig": {"Filter": {"Title": "ZIPPER"}}}, tok)
    assert [c["ID"] for c in body["Results"]] == [b, a]
    body = await api.ok("CustomerListCases", {"InitialPageConfig": {"Filter": {"Title": "0%"}}}, tok)
    assert [c["ID"] for c in body["Results"]] == [b]
    body = await api.ok("CustomerListCases", {"InitialPageConfig": {"Filter": {"Title": "_"}}}, tok)
    assert body["Results"] == []


async def test_list_cases_pages_forward_and_back_with_tokens(api: Api) -> None:
    ids = [await new_case(api, Title=f"Case number {i}") for i in range(5)]
    newest_first = ids[::-1]
    tok = customer(ALICE)
    first = await api.ok("CustomerListCases", {"InitialPageConfig": {"Limit": 2}}, tok)
    assert [c["ID"] for c in first["Results"]] == newest_first[:2] and "PreviousPageToken" not in first
    second = await api.ok("CustomerListCases", {"PageToken": first["NextPageToken"]}, tok)
    assert [c["ID"] for c in second["Results"]] == newest_first[2:4]
    third = await api.ok("CustomerListCases", {"PageToken": second["NextPageToken"]}, tok)
    assert [c["ID"] for c in third["Results"]] == newest_first[4:] and "NextPageToken" not in third
    back = await api.ok("CustomerListCases", {"PageToken": third["PreviousPageToken"]}, tok)
    assert [c["ID"] for c in back["Results"]] == newest_first[2:4]
    back2 = await api.ok("CustomerListCases", {"PageToken": back["PreviousPageToken"]}, tok)
    assert [c["ID"] for c in back2["Results"]] == newest_first[:2] and "PreviousPageToken" not in back2


async def test_a_tampered_or_foreign_page_token_is_400(api: Api) -> None:
    for i in range(3):
        await new_case(api, Title=f"Case number {i}")
    tok = customer(ALICE)
    first = await api.ok("CustomerListCases", {"InitialPageConfig": {"Limit": 1}}, tok)
    token = first["NextPageToken"]
    payload, mac = token.split(".")
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + mac
    for bad in (tampered, token + "x", "garbage", "a.b", f"{payload}.é", "é.é", "AAAA.\u0000"):
        err = await api.error("CustomerListCases", {"PageToken": bad}, tok, 400)
        assert err["Code"] == "InvalidPageToken"
    err = await api.error("ListCaseTopics", {"PageToken": token}, tok, 400)
    assert err["Code"] == "InvalidPageToken"


@pytest.mark.parametrize(("limit", "expected"), [(None, 25), (100, 100), (1000, 100)])
async def test_page_size_defaults_to_25_and_is_capped_at_100(
    api: Api, db: asyncpg.Connection, limit: int | None, expected: int
) -> None:
    await db.execute("INSERT INTO users (id, user_type) VALUES ($1, 2)", ALICE)
    await db.execute(
        "INSERT INTO cases (customer_id, topic_id, status_id, title) SELECT $1, 1, 1, 'Case ' || g"
        " FROM generate_series(1, 120) g",
        ALICE,
    )
    config = {} if limit is None else {"InitialPageConfig": {"Limit": limit}}
    body = await api.ok("CustomerListCases", config, customer(ALICE))
    assert len(body["Results"]) == expected and "NextPageToken" in body


async def test_a_page_size_below_one_is_400(api: Api) -> None:
    err = await api.error("CustomerListCases", {"InitialPageConfig": {"Limit": 0}}, customer(ALICE), 400)
    assert err["Data"] == {"Field": "InitialPageConfig.Limit"}
