"""Case workflows from the seed systems (issue 17): cancel with a reason, reopen, customer references, origin,
contacts and watchers, tags and links — through the API, with exact bodies, ledger lines and database state."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.conftest import DatabaseFactory
from tests.dbstate import ledger, normalized, snapshot
from tests.helpers import Api, customer, employee

ALICE, BOB = 101, 102
AGENT_ID = 60
AGENT = employee(AGENT_ID, ["Cases:Manage"])
INTEGRATOR = employee(70, ["PushCases", "Cases:Manage"])


async def customer_case(api: Api, who: int = ALICE, **fields: Any) -> int:
    body = {"TopicID": 1, "Title": "Broken zipper", "Description": "The zipper broke on day one."}
    body.update(fields)
    return int((await api.ok("CustomerCreateCase", body, customer(who)))["ID"])


async def staff_case(api: Api, **fields: Any) -> int:
    body = {"TopicID": 2, "Title": "Parcel lost", "Description": "Tracking stopped.", "CustomerID": ALICE}
    body.update(fields)
    await api.ok("Ping", {}, customer(ALICE))  # the customer is known
    return int((await api.ok("CreateCase", body, AGENT))["ID"])


async def messages(db: asyncpg.Connection, case_id: int) -> list[tuple[int, str, int]]:
    rows = await db.fetch(
        "SELECT type, text, created_by FROM interactions WHERE case_id = $1 AND type <> 2 ORDER BY id", case_id
    )
    return [tuple(r) for r in rows]


# --- customer reference and origin ----------------------------------------------------------------------


async def test_customer_reference_and_origin_are_set_shown_changed_and_filtered(
    api: Api, db: asyncpg.Connection
) -> None:
    web = await customer_case(api, CustomerReference="MY-REF-1")
    other = await customer_case(api, CustomerReference="MY-REF-2")
    await customer_case(api, BOB, CustomerReference="MY-REF-1")  # someone else's, same reference
    phone = await staff_case(api, CustomerReference="CALL-9", Origin="Voice")
    api_made = await staff_case(api)
    rows = await db.fetch("SELECT id, origin, customer_reference FROM cases ORDER BY id")
    assert [tuple(r)[1:] for r in rows] == [
        ("Web", "MY-REF-1"),
        ("Web", "MY-REF-2"),
        ("Web", "MY-REF-1"),
        ("Voice", "CALL-9"),
        ("Api", None),
    ]
    mine = await api.ok("CustomerGetCaseByID", {"ID": web}, customer(ALICE))
    assert mine["CustomerReference"] == "MY-REF-1" and "Origin" not in mine
    staff_view = await api.ok("GetCaseByID", {"ID": phone}, AGENT)
    assert (staff_view["CustomerReference"], staff_view["Origin"]) == ("CALL-9", "Voice")
    assert "CustomerReference" not in await api.ok("GetCaseByID", {"ID": api_made}, AGENT)

    # The customer attaches a reference later (seed 002), and staff change it; each writes its ledger line.
    await api.ok("CustomerUpdateCase", {"ID": other, "CustomerReference": "MY-REF-1"}, customer(ALICE))
    await api.ok("UpdateCase", {"ID": api_made, "CustomerReference": "WEB-77"}, AGENT)
    assert (await ledger(db, other))[-1] == "Case customer reference set to `MY-REF-1`"
    assert (await ledger(db, api_made))[-1] == "Case customer reference set to `WEB-77`"
    await api.ok("UpdateCase", {"ID": api_made, "CustomerReference": None}, AGENT)
    assert (await ledger(db, api_made))[-1] == "Case customer reference removed"

    listed = await api.ok(
        "CustomerListCases", {"InitialPageConfig": {"Filter": {"CustomerReference": "MY-REF-1"}}}, customer(ALICE)
    )
    assert [(r["ID"], r["CustomerReference"]) for r in listed["Results"]] == [(other, "MY-REF-1"), (web, "MY-REF-1")]
    staff_list = await api.ok("ListCases", {"InitialPageConfig": {"Filter": {"CustomerReference": "MY-REF-1"}}}, AGENT)
    assert len(staff_list["Results"]) == 3
    by_origin = await api.ok("ListCases", {"InitialPageConfig": {"Filter": {"Origin": "Voice"}}}, AGENT)
    assert [(r["ID"], r["Origin"], r["CustomerReference"]) for r in by_origin["Results"]] == [
        (phone, "Voice", "CALL-9")
    ]
    err = await api.error("ListCases", {"InitialPageConfig": {"Filter": {"Origin": "Fax"}}}, AGENT, 400)
    assert err["Code"] == "RequestValidationFailure"
    too_long = await api.error("CustomerUpdateCase", {"ID": web, "CustomerReference": "x" * 201}, customer(ALICE), 400)
    assert "CustomerReference" in too_long["Message"]


async def test_push_case_sets_origin_reference_and_contacts(api: Api, db: asyncpg.Connection) -> None:
    body = {
        "BackendID": "T-1",
        "Title": "Call about a refund",
        "Description": "Customer called.",
        "Status": "New",
        "Topic": "Payment",
        "CustomerReference": "REF-T-1",
        "Contacts": [{"Type": "Technical", "FirstName": "Ops", "EmailAddress": "ops@shop.example"}],
    }
    case_id = (await api.ok("PushCase", body, INTEGRATOR))["ID"]
    row = await db.fetchrow("SELECT origin, customer_reference FROM cases WHERE id = $1", case_id)
    assert tuple(row) == ("Push", "REF-T-1")
    # An update pushing the same contact again keeps one; a new origin is a ledger line.
    again = await api.ok("PushCase", {**body, "Update": True, "Origin": "WhatsApp"}, INTEGRATOR)
    assert again["ID"] == case_id
    assert await db.fetchval("SELECT count(*) FROM case_contacts WHERE case_id = $1", case_id) == 1
    assert (await ledger(db, case_id))[-1] == "Case origin set to `WhatsApp`"


# --- cancel and reopen ----------------------------------------------------------------------------------


async def test_a_customer_cancels_their_open_case_with_a_reason(api: Api, db: asyncpg.Connection) -> None:
    case_id = await customer_case(api)
    await api.ok("CustomerCancelCase", {"ID": case_id, "Reason": "Found it in the garage."}, customer(ALICE))
    row = await db.fetchrow("SELECT status_id, closing_time, cancellation_reason FROM cases WHERE id = $1", case_id)
    assert (row["status_id"], row["closing_time"] is not None, row["cancellation_reason"]) == (
        4,
        True,
        "Found it in the garage.",
    )
    assert await messages(db, case_id) == [(0, "Found it in the garage.", ALICE)]
    assert (await ledger(db, case_id))[-2:] == [
        "Case status set to `Cancelled`",
        "Case cancelled: Found it in the garage.",
    ]
    view = await api.ok("CustomerGetCaseByID", {"ID": case_id}, customer(ALICE))
    assert (view["StatusName"], view["CancellationReason"]) == ("Cancelled", "Found it in the garage.")
    assert view["ClosingTime"] is not None
    # Closed now: cancelling again is a 409, and nothing changes.
    before = await snapshot(db)
    err = await api.error("CustomerCancelCase", {"ID": case_id, "Reason": "Again"}, customer(ALICE), 409)
    assert err["Code"] == "Case:CaseAlreadyClosed"
    assert await snapshot(db) == before


@pytest.mark.parametrize(
    ("who", "reason", "status", "code"),
    [
        (BOB, "Not mine", 404, "Case:NotFound"),
        (ALICE, "x" * 4001, 400, "RequestValidationFailure"),
        (ALICE, "   ", 400, "RequestValidationFailure"),
        (ALICE, "", 400, "RequestValidationFailure"),
    ],
    ids=["another customer's case", "too long", "blank", "empty"],
)
async def test_a_cancel_that_is_not_allowed_changes_nothing(
    api: Api, db: asyncpg.Connection, who: int, reason: str, status: int, code: str
) -> None:
    case_id = await customer_case(api)
    await api.ok("Ping", {}, customer(BOB))
    before = await snapshot(db)
    err = await api.error("CustomerCancelCase", {"ID": case_id, "Reason": reason}, customer(who), status)
    assert err["Code"] == code
    assert await snapshot(db) == before


async def test_an_employee_cancels_with_a_reason_and_reopening_clears_it(api: Api, db: asyncpg.Connection) -> None:
    case_id = await staff_case(api)
    answer = await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 4, "Reason": "Ordered twice."}, AGENT)
    assert answer == {"StatusAction": 0}
    assert (await ledger(db, case_id))[-2:] == ["Case status set to `Cancelled`", "Case cancelled: Ordered twice."]
    view = await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    assert (view["StatusID"], view["CancellationReason"]) == (4, "Ordered twice.")
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 2, "Reason": "Only one arrived."}, AGENT)
    row = await db.fetchrow("SELECT status_id, closing_time, cancellation_reason FROM cases WHERE id = $1", case_id)
    assert tuple(row) == (2, None, None)
    assert (await ledger(db, case_id))[-2:] == ["Case status set to `InProgress`", "Case reopened: Only one arrived."]
    err = await api.error("UpdateCaseState", {"ID": case_id, "Priority": 2, "Reason": "Why not"}, AGENT, 400)
    assert err["Message"] == "Reason: it explains a status change, so it goes with a StatusID."
    err = await api.error("UpdateCaseState", {"ID": case_id, "StatusID": 2, "Reason": "Same"}, AGENT, 400)
    assert "already in this status" in err["Message"]


async def test_a_customer_reopens_within_the_window_and_is_pointed_to_a_new_case_after_it(
    api: Api, db: asyncpg.Connection
) -> None:
    case_id = await customer_case(api)
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 3}, AGENT)
    err = await api.error("CustomerReopenCase", {"ID": case_id, "Reason": "Broke again"}, customer(BOB), 404)
    assert err["Code"] == "Case:NotFound"
    await api.ok("CustomerReopenCase", {"ID": case_id, "Reason": "It broke again."}, customer(ALICE))
    row = await db.fetchrow("SELECT status_id, closing_time FROM cases WHERE id = $1", case_id)
    assert tuple(row) == (2, None)
    assert (await ledger(db, case_id))[-2:] == ["Case status set to `InProgress`", "Case reopened: It broke again."]
    assert await messages(db, case_id) == [(0, "It broke again.", ALICE)]
    open_err = await api.error("CustomerReopenCase", {"ID": case_id, "Reason": "Again"}, customer(ALICE), 409)
    assert open_err["Code"] == "Case:CaseIsNotClosed"

    # Closed 15 days ago: past the default window of 14 days.
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 3}, AGENT)
    await db.execute("UPDATE cases SET closing_time = '2026-01-01T10:00:00Z' WHERE id = $1", case_id)  # long ago
    before = await snapshot(db)
    late = await api.error("CustomerReopenCase", {"ID": case_id, "Reason": "Again"}, customer(ALICE), 409)
    assert late == {
        "Code": "Case:ReopenWindowExpired",
        "Type": "Conflict",
        "Message": "The case was closed more than 14 days ago and can no longer be reopened: please create a new "
        "case (CustomerCreateCase).",
        "RequestID": late["RequestID"],
        "Data": {"ClosingTime": "2026-01-01T10:00:00.000Z", "ReopenWindowMinutes": 20160},
    }
    assert await snapshot(db) == before
    # The window is a setting: a longer one lets the customer in.
    await db.execute(
        "INSERT INTO settings (name, value) VALUES ('Cases:CustomerReopenWindow', '1000000')"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
    )
    await api.ok("CustomerReopenCase", {"ID": case_id, "Reason": "Please look again."}, customer(ALICE))
    assert await db.fetchval("SELECT status_id FROM cases WHERE id = $1", case_id) == 2


# --- contacts and watchers ------------------------------------------------------------------------------


async def test_contacts_are_added_shown_updated_on_retry_and_removed(api: Api, db: asyncpg.Connection) -> None:
    await api.ok("Ping", {}, AGENT)
    case_id = await customer_case(
        api,
        Contacts=[
            {
                "FirstName": "Sam",
                "LastName": "Doe",
                "EmailAddress": " sam@home.example ",
                "PhoneNumber": "+31 (6) 1234-5678",
            }
        ],
    )
    added = await api.ok(
        "AddCaseContact",
        {"CaseID": case_id, "Contact": {"Type": "Technical", "FirstName": "Kim", "EmailAddress": "kim@it.example"}},
        AGENT,
    )
    retried = await api.ok(
        "AddCaseContact",
        {"CaseID": case_id, "Contact": {"Type": "Technical", "LastName": "Lee", "EmailAddress": "KIM@it.example"}},
        AGENT,
    )
    assert retried == added  # the same contact (type and e-mail address): updated, not repeated
    watcher = await api.ok("AddCaseContact", {"CaseID": case_id, "Contact": {"UserID": AGENT_ID}}, AGENT)
    staff_view = await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    assert normalized(staff_view["Contacts"]) == [
        {
            "ID": "<id>",
            "Type": "Notification",
            "FirstName": "Sam",
            "LastName": "Doe",
            "FullName": "Sam Doe",
            "EmailAddress": "sam@home.example",
            "PhoneNumber": "+31612345678",
            "IsStaffOnly": False,
        },
        {
            "ID": "<id>",
            "Type": "Technical",
            "FirstName": "Kim",
            "LastName": "Lee",
            "FullName": "Kim Lee",
            "EmailAddress": "KIM@it.example",  # the address last given
            "IsStaffOnly": False,
        },
        {
            "ID": "<id>",
            "Type": "Notification",
            "UserID": AGENT_ID,
            "FirstName": "Pedro",
            "LastName": "Pascal",
            "FullName": "Pedro Pascal",
            "IsStaffOnly": True,
        },
    ]
    mine = await api.ok("CustomerGetCaseByID", {"ID": case_id}, customer(ALICE))
    assert [c["FirstName"] for c in mine["Contacts"]] == ["Sam", "Kim"]  # never the watcher
    assert all("IsStaffOnly" not in c for c in mine["Contacts"])
    # Only customer-visible contacts leave ledger lines (customers read the ledger).
    assert (await ledger(db, case_id))[2:] == ["Case technical contact added"]
    # The customer cannot remove the watcher (not theirs to see); staff can.
    err = await api.error(
        "CustomerRemoveCaseContact", {"CaseID": case_id, "ContactID": watcher["ID"]}, customer(ALICE), 404
    )
    assert err["Code"] == "CaseContact:NotFound"
    await api.ok("RemoveCaseContact", {"CaseID": case_id, "ContactID": watcher["ID"]}, AGENT)
    await api.ok("CustomerRemoveCaseContact", {"CaseID": case_id, "ContactID": added["ID"]}, customer(ALICE))
    assert (await ledger(db, case_id))[-1] == "Case technical contact removed"
    assert await db.fetchval("SELECT count(*) FROM case_contacts WHERE case_id = $1", case_id) == 1


@pytest.mark.parametrize(
    ("contact", "message"),
    [
        ({"EmailAddress": "not-an-address"}, "Contact.EmailAddress: not an e-mail address."),
        ({"EmailAddress": "a@b"}, "Contact.EmailAddress: not an e-mail address."),
        ({"PhoneNumber": "call me"}, "Contact.PhoneNumber: an optional + and 6 to 15 digits"),
        ({"PhoneNumber": "+1234567890123456"}, "Contact.PhoneNumber: an optional + and 6 to 15 digits"),
        ({"FirstName": "Nobody"}, "Contact: a UserID, an EmailAddress or a PhoneNumber is required."),
        ({"UserID": 60}, "Contact: customers add a contact by name, e-mail address and phone number."),
        ({"EmailAddress": "x@y.example", "IsStaffOnly": True}, "Contact: customers add a contact by name"),
    ],
)
async def test_contacts_are_validated(api: Api, db: asyncpg.Connection, contact: dict[str, Any], message: str) -> None:
    case_id = await customer_case(api)
    before = await snapshot(db)
    err = await api.error("CustomerAddCaseContact", {"CaseID": case_id, "Contact": contact}, customer(ALICE), 400)
    assert err["Message"].startswith(message)
    assert await snapshot(db) == before


async def test_a_case_holds_at_most_twenty_contacts(api: Api, db: asyncpg.Connection) -> None:
    case_id = await customer_case(api, Contacts=[{"EmailAddress": f"c{i}@shop.example"} for i in range(20)])
    err = await api.error(
        "AddCaseContact", {"CaseID": case_id, "Contact": {"EmailAddress": "one-more@shop.example"}}, AGENT, 409
    )
    assert err["Code"] == "CaseContact:TooManyContacts"
    # Adding one it already has is an update, never refused.
    again = {"CaseID": case_id, "Contact": {"EmailAddress": "c3@shop.example", "FirstName": "C"}}
    await api.ok("AddCaseContact", again, AGENT)
    assert await db.fetchval("SELECT count(*) FROM case_contacts WHERE case_id = $1", case_id) == 20


# --- tags -----------------------------------------------------------------------------------------------


async def test_tags_are_normalised_listed_filtered_and_never_shown_to_customers(
    api: Api, db: asyncpg.Connection
) -> None:
    first = await customer_case(api)
    second = await customer_case(api)
    ledger_before = await ledger(db, first)
    await api.ok("AddCaseTags", {"CaseID": first, "Tags": ["  VIP ", "Return  Label", "vip"]}, AGENT)
    await api.ok("AddCaseTags", {"CaseID": second, "Tags": ["vip"]}, AGENT)
    assert [tuple(r) for r in await db.fetch("SELECT case_id, tag FROM case_tags ORDER BY case_id, tag")] == [
        (first, "return-label"),
        (first, "vip"),
        (second, "vip"),
    ]
    assert (await api.ok("GetCaseByID", {"ID": first}, AGENT))["Tags"] == ["return-label", "vip"]
    listed = await api.ok("ListCases", {"InitialPageConfig": {"Filter": {"Tag": "VIP"}}}, AGENT)
    assert [(r["ID"], r["Tags"]) for r in listed["Results"]] == [(second, ["vip"]), (first, ["return-label", "vip"])]
    paged = await api.ok("ListCases", {"InitialPageConfig": {"Filter": {"Tag": "vip"}, "Limit": 1}}, AGENT)
    rest = await api.ok("ListCases", {"PageToken": paged["NextPageToken"]}, AGENT)
    assert [r["ID"] for r in paged["Results"] + rest["Results"]] == [second, first]
    both = await api.ok("ListCases", {"InitialPageConfig": {"Filter": {"Tag": "vip", "StatusID": 1}}}, AGENT)
    assert len(both["Results"]) == 2
    # Customers never see tags, nor a ledger line about them.
    assert "Tags" not in await api.ok("CustomerGetCaseByID", {"ID": first}, customer(ALICE))
    assert await ledger(db, first) == ledger_before
    await api.ok("RemoveCaseTags", {"CaseID": first, "Tags": ["VIP", "unknown"]}, AGENT)
    assert (await api.ok("GetCaseByID", {"ID": first}, AGENT))["Tags"] == ["return-label"]
    err = await api.error("AddCaseTags", {"CaseID": first, "Tags": ["no;semicolons"]}, AGENT, 400)
    assert err["Message"].startswith("Tags: a tag is 1 to 50 letters")
    err = await api.error("AddCaseTags", {"CaseID": first, "Tags": ["x" * 51]}, AGENT, 400)
    assert err["Code"] == "RequestValidationFailure"


async def test_a_case_holds_at_most_fifty_tags(api: Api, db: asyncpg.Connection) -> None:
    case_id = await customer_case(api)
    await api.ok("AddCaseTags", {"CaseID": case_id, "Tags": [f"t{i}" for i in range(50)]}, AGENT)
    await api.ok("AddCaseTags", {"CaseID": case_id, "Tags": ["t7"]}, AGENT)  # already there: nothing added
    err = await api.error("AddCaseTags", {"CaseID": case_id, "Tags": ["t50"]}, AGENT, 409)
    assert err["Code"] == "Case:TooManyTags"
    assert await db.fetchval("SELECT count(*) FROM case_tags WHERE case_id = $1", case_id) == 50


# --- links ----------------------------------------------------------------------------------------------


async def test_linked_cases_show_on_both_sides_and_a_duplicate_closes_in_one_step(
    api: Api, db: asyncpg.Connection
) -> None:
    original = await customer_case(api)
    duplicate = await customer_case(api)
    follow_up = await customer_case(api)
    await api.ok("LinkCases", {"CaseID": follow_up, "LinkedCaseID": original, "Type": "FollowUpOf"}, AGENT)
    await api.ok(
        "LinkCases",
        {"CaseID": duplicate, "LinkedCaseID": original, "Type": "DuplicateOf", "CloseWithStatusID": 4},
        AGENT,
    )
    row = await db.fetchrow("SELECT status_id, cancellation_reason FROM cases WHERE id = $1", duplicate)
    assert tuple(row) == (4, "Duplicate of another case")
    assert (await ledger(db, duplicate))[-2:] == [
        "Case status set to `Cancelled`",
        "Case cancelled: Duplicate of another case",
    ]
    seen = await api.ok("GetCaseByID", {"ID": original}, AGENT)
    assert [(x["CaseID"], x["Type"], x["StatusName"], x["IsClosed"]) for x in seen["LinkedCases"]] == [
        (follow_up, "HasFollowUp", "New", False),
        (duplicate, "HasDuplicate", "Cancelled", True),
    ]
    from_duplicate = await api.ok("GetCaseByID", {"ID": duplicate}, AGENT)
    assert [(x["CaseID"], x["Type"]) for x in from_duplicate["LinkedCases"]] == [(original, "DuplicateOf")]
    # Linking the pair again (either way round) replaces the link.
    await api.ok("LinkCases", {"CaseID": original, "LinkedCaseID": follow_up, "Type": "Related"}, AGENT)
    assert [tuple(r) for r in await db.fetch("SELECT case_id, linked_case_id, type FROM case_links ORDER BY 1")] == [
        (original, follow_up, "Related"),
        (duplicate, original, "DuplicateOf"),
    ]
    # The customer sees links between their own cases.
    mine = await api.ok("CustomerGetCaseByID", {"ID": original}, customer(ALICE))
    assert [(x["CaseID"], x["Type"]) for x in mine["LinkedCases"]] == [
        (duplicate, "HasDuplicate"),
        (follow_up, "Related"),  # linked again: now the newer link
    ]
    await api.ok("UnlinkCases", {"CaseID": follow_up, "LinkedCaseID": original}, AGENT)
    err = await api.error("UnlinkCases", {"CaseID": follow_up, "LinkedCaseID": original}, AGENT, 404)
    assert err["Code"] == "CaseLink:NotFound"
    err = await api.error("LinkCases", {"CaseID": original, "LinkedCaseID": original}, AGENT, 400)
    assert err["Message"] == "LinkedCaseID: a case cannot be linked to itself."
    err = await api.error(
        "LinkCases", {"CaseID": follow_up, "LinkedCaseID": original, "CloseWithStatusID": 4}, AGENT, 400
    )
    assert err["Message"] == "CloseWithStatusID: only a duplicate (Type DuplicateOf) is closed by its link."
    err = await api.error(
        "LinkCases",
        {"CaseID": follow_up, "LinkedCaseID": original, "Type": "DuplicateOf", "CloseWithStatusID": 2},
        AGENT,
        400,
    )
    assert err["Message"] == "CloseWithStatusID: the status must close its cases."
    assert await db.fetchval("SELECT count(*) FROM case_links WHERE case_id = $1", follow_up) == 0


async def test_links_respect_what_each_reader_may_see(api: Api, db: asyncpg.Connection) -> None:
    mine = await staff_case(api, AssignedOrganizationUnitID=10)
    theirs = await staff_case(api, AssignedOrganizationUnitID=20)
    bobs = await customer_case(api, BOB)
    await api.ok("LinkCases", {"CaseID": mine, "LinkedCaseID": theirs}, AGENT)
    await api.ok("LinkCases", {"CaseID": mine, "LinkedCaseID": bobs}, AGENT)
    store = employee(63, ["Cases:Manage"], organization_units=[10])
    view = await api.ok("GetCaseByID", {"ID": mine}, store)
    assert [x["CaseID"] for x in view["LinkedCases"]] == [bobs]  # nothing at all of the case it may not see
    err = await api.error("UnlinkCases", {"CaseID": mine, "LinkedCaseID": theirs}, store, 404)
    assert err["Code"] == "Case:NotFound"
    err = await api.error("LinkCases", {"CaseID": mine, "LinkedCaseID": theirs, "Type": "Related"}, store, 404)
    assert err["Code"] == "Case:NotFound"
    alices = await api.ok("CustomerGetCaseByID", {"ID": mine}, customer(ALICE))
    assert [x["CaseID"] for x in alices["LinkedCases"]] == [theirs]  # never the link to Bob's case


async def test_the_change_feed_shows_each_reader_the_contacts_a_notifier_needs(
    api: Api, db: asyncpg.Connection, databases: DatabaseFactory
) -> None:
    await api.ok("Ping", {}, AGENT)
    case_id = await customer_case(api, Contacts=[{"FirstName": "Sam", "EmailAddress": "sam@home.example"}])
    await api.ok("AddCaseContact", {"CaseID": case_id, "Contact": {"UserID": AGENT_ID}}, AGENT)
    await databases.settle()  # the feed waits for every transaction on the server (clones too)
    since = {"Since": "2000-01-01T00:00:00Z"}
    staff = await api.ok("ListChangedCases", since, AGENT)
    assert [(c["FullName"], c.get("UserID"), c["IsStaffOnly"]) for c in staff["Results"][0]["Contacts"]] == [
        ("Sam", None, False),
        ("Pedro Pascal", AGENT_ID, True),
    ]
    mine = await api.ok("ListChangedCases", since, customer(ALICE))
    assert normalized(mine["Results"][0]["Contacts"]) == [
        {
            "ID": "<id>",
            "Type": "Notification",
            "FirstName": "Sam",
            "FullName": "Sam",
            "EmailAddress": "sam@home.example",
        }
    ]
