"""Customers read Communication, Ledger and Email lines of their cases, never private notes, and change only
their own messages while the case is open."""

from __future__ import annotations

import asyncpg

from tests.dbstate import snapshot
from tests.helpers import Api, customer
from tests.test_customer_cases import ALICE, new_case

STAFF = 900


async def staff_line(db: asyncpg.Connection, case_id: int, type_: int, text: str) -> int:
    await db.execute(
        "INSERT INTO users (id, user_type, first_name, last_name) VALUES ($1, 1, 'Sam', 'Staff')"
        " ON CONFLICT DO NOTHING",
        STAFF,
    )
    return int(
        await db.fetchval(
            "INSERT INTO interactions (case_id, type, text, created_by) VALUES ($1, $2, $3, $4) RETURNING id",
            case_id,
            type_,
            text,
            STAFF,
        )
    )


async def say(api: Api, case_id: int, text: str = "Any news?") -> int:
    return int(
        (await api.ok("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": text}, customer(ALICE)))["ID"]
    )


async def test_create_interaction_stores_a_communication_line_and_touches_the_case(
    api: Api, db: asyncpg.Connection
) -> None:
    case_id = await new_case(api)
    interaction_id = await say(api, case_id, "Hello?")
    row = await db.fetchrow(
        "SELECT case_id, type, text, created_by, creation_time FROM interactions WHERE id=$1", interaction_id
    )
    assert (row["case_id"], row["type"], row["text"], row["created_by"]) == (case_id, 0, "Hello?", ALICE)
    last = await db.fetchval("SELECT last_interaction_time FROM cases WHERE id = $1", case_id)
    assert last == row["creation_time"]


async def test_blank_or_too_long_text_is_400(api: Api) -> None:
    case_id = await new_case(api)
    for text, message in (
        ("   ", "Text must not be blank and must be at most 10000 characters"),
        ("x" * 10_001, "Text must not be blank and must be at most 10000 characters"),
    ):
        err = await api.error("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": text}, customer(ALICE), 400)
        assert err["Message"] == message
    err = await api.error("CustomerCreateCaseInteraction", {"Text": "hi"}, customer(ALICE), 400)
    assert err["Message"] == "CaseID is required"


async def test_private_notes_are_never_shown_to_customers(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    note = await staff_line(db, case_id, 1, "Customer seems upset")
    callback = await staff_line(db, case_id, 4, "callback payload")
    email = await staff_line(db, case_id, 3, "We emailed you")
    listed = await api.ok("CustomerListCaseInteractions", {"CaseID": case_id}, customer(ALICE))
    ids = [i["ID"] for i in listed["Results"]]
    assert email in ids and note not in ids and callback not in ids
    assert all(i["Type"] in (0, 2, 3) for i in listed["Results"])
    for hidden in (note, callback):
        err = await api.error("CustomerGetCaseInteraction", {"ID": hidden}, customer(ALICE), 404)
        assert err["Code"] == "CaseInteraction:NotFound"
        filtered = {"CaseID": case_id, "InitialPageConfig": {"Filter": {"ID": hidden}}}
        assert (await api.ok("CustomerListCaseInteractions", filtered, customer(ALICE)))["Results"] == []
        for service in ("CustomerUpdateCaseInteraction", "CustomerDeleteCaseInteraction"):
            body = {"ID": hidden, "Text": "x"}
            assert (await api.error(service, body, customer(ALICE), 404))["Code"] == "CaseInteraction:NotFound"
        blob = {"InteractionID": hidden, "BlobID": "b832ece7-93ea-4c5e-ad64-11402201315d"}
        assert (await api.error("CustomerAddBlobToCaseInteraction", blob, customer(ALICE), 404))["Type"] == "NotFound"
    searched = {"CaseID": case_id, "InitialPageConfig": {"Filter": {"Text": "upset"}}}
    assert (await api.ok("CustomerListCaseInteractions", searched, customer(ALICE)))["Results"] == []


async def test_get_interaction_shows_can_be_modified_for_own_messages_only(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    mine = await say(api, case_id, "My question")
    staff = await staff_line(db, case_id, 0, "Our answer")
    got = await api.ok("CustomerGetCaseInteraction", {"ID": mine}, customer(ALICE))
    created = got.pop("CreationTime")
    assert created.endswith("Z")
    assert got == {"ID": mine, "CaseID": case_id, "Type": 0, "CanBeModified": True, "Text": "My question"}
    assert (await api.ok("CustomerGetCaseInteraction", {"ID": staff}, customer(ALICE)))["CanBeModified"] is False


async def test_customers_update_and_delete_only_their_own_messages(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    mine = await say(api, case_id, "My question")
    staff = await staff_line(db, case_id, 0, "Our answer")
    ledger_id = await db.fetchval("SELECT min(id) FROM interactions WHERE case_id = $1 AND type = 2", case_id)
    await api.ok("CustomerUpdateCaseInteraction", {"ID": mine, "Text": "My better question"}, customer(ALICE))
    row = await db.fetchrow("SELECT text, last_modification_time FROM interactions WHERE id = $1", mine)
    assert row["text"] == "My better question" and row["last_modification_time"] is not None
    got = await api.ok("CustomerGetCaseInteraction", {"ID": mine}, customer(ALICE))
    assert got["LastModificationTime"].endswith("Z")
    before = await snapshot(db)
    for other in (staff, ledger_id):
        err = await api.error("CustomerUpdateCaseInteraction", {"ID": other, "Text": "hacked"}, customer(ALICE), 403)
        assert err["Code"] == "CaseInteraction:CanOnlyUpdateOwnInteraction"
        err = await api.error("CustomerDeleteCaseInteraction", {"ID": other}, customer(ALICE), 403)
        assert err["Code"] == "CaseInteraction:CanOnlyDeleteOwnInteraction"
    assert await snapshot(db) == before
    await api.ok("CustomerDeleteCaseInteraction", {"ID": mine}, customer(ALICE))
    assert await db.fetchval("SELECT count(*) FROM interactions WHERE id = $1", mine) == 0


async def test_nothing_changes_on_a_closed_case(api: Api, db: asyncpg.Connection) -> None:
    case_id = await new_case(api)
    mine = await say(api, case_id)
    await db.execute("UPDATE cases SET status_id = 4, closing_time = now() WHERE id = $1", case_id)
    before = await snapshot(db)
    tok = customer(ALICE)
    for service, body in (
        ("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": "hello?"}),
        ("CustomerUpdateCaseInteraction", {"ID": mine, "Text": "changed"}),
        ("CustomerDeleteCaseInteraction", {"ID": mine}),
        ("CustomerAddBlobToCase", {"CaseID": case_id, "BlobID": "b832ece7-93ea-4c5e-ad64-11402201315d"}),
        ("CustomerAddBlobToCaseInteraction", {"InteractionID": mine, "BlobID": "b832ece7-93ea-4c5e-ad64-11402201315d"}),
    ):
        assert (await api.error(service, body, tok, 409))["Code"] == "Case:CaseAlreadyClosed", service
    assert await snapshot(db) == before
    listed = await api.ok("CustomerListCaseInteractions", {"CaseID": case_id}, tok)
    assert not any(i["CanBeModified"] for i in listed["Results"])


async def test_list_interactions_filters_on_text_and_id(api: Api) -> None:
    case_id = await new_case(api)
    a = await say(api, case_id, "Where is my PARCEL?")
    b = await say(api, case_id, "Still waiting")
    tok = customer(ALICE)
    by_text = {"CaseID": case_id, "InitialPageConfig": {"Filter": {"Text": "parcel"}}}
    assert [i["ID"] for i in (await api.ok("CustomerListCaseInteractions", by_text, tok))["Results"]] == [a]
    by_id = {"CaseID": case_id, "InitialPageConfig": {"Filter": {"ID": b}}}
    assert [i["ID"] for i in (await api.ok("CustomerListCaseInteractions", by_id, tok))["Results"]] == [b]


async def test_a_page_token_of_one_case_is_refused_for_another(api: Api) -> None:
    one, two = await new_case(api), await new_case(api)
    tok = customer(ALICE)
    first = await api.ok("CustomerListCaseInteractions", {"CaseID": one, "InitialPageConfig": {"Limit": 1}}, tok)
    err = await api.error(
        "CustomerListCaseInteractions", {"CaseID": two, "PageToken": first["NextPageToken"]}, tok, 400
    )
    assert err["Code"] == "InvalidPageToken"
    second = await api.ok("CustomerListCaseInteractions", {"CaseID": one, "PageToken": first["NextPageToken"]}, tok)
    assert [i["Text"] for i in second["Results"]] == ["Case created with priority `Low`"]
