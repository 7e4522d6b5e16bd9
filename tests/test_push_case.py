"""PushCase: the guide's sample, identity and retries, customers and addresses, assignees, topics and statuses
with their settings, interactions and related items, all-or-nothing writes, permissions."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
from typing import Any

import asyncpg
import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evacase.auth import Caller, Scope, UserType
from evacase.context import Context
from evacase.domain.catalogue import CatalogueCache
from evacase.domain.customers import PushedCustomer, customer_keys, upsert_customer
from evacase.domain.users import record_user
from evacase.paging import PageTokens
from evacase.services import build_registry
from tests.conftest import make_settings, serving
from tests.dbstate import ledger, snapshot
from tests.guide_examples import PUSH_CASE_CUSTOM_FIELDS, PUSH_CASE_REQUEST, PUSH_CASE_RESPONSE
from tests.helpers import SECRET, Api, CountingConnection, customer, employee, statement_name, token
from tests.strategies import PROPERTY_SETTINGS

INTEGRATOR = token(70, UserType.API, ["PushCases:None"])
VIEWER = employee(71, ["Cases:View"])
FIRST_PUSHED_ID = 1_000_000_000_000_001


def push(**fields: Any) -> dict[str, Any]:
    """A small valid push; `fields` replace or add top-level fields."""
    body: dict[str, Any] = {
        "BackendSystemID": "CRM",
        "BackendID": "C-1",
        "CaseTopic": {"BackendID": "T-RET", "Name": "Returns"},
        "Title": "Parcel never arrived",
        "Description": "Ordered two weeks ago.",
        "Status": "New",
    }
    body.update(fields)
    return body


async def case_view(api: Api, case_id: int) -> dict[str, Any]:
    view: dict[str, Any] = await api.ok("GetCaseByID", {"ID": case_id}, VIEWER)
    return view


async def counts(db: asyncpg.Connection) -> dict[str, int]:
    tables = ("users", "customer_profiles", "customer_addresses", "case_topics", "case_statuses", "cases")
    return {t: await db.fetchval(f"SELECT count(*) FROM {t}") for t in tables}


# --- the guide's sample ---------------------------------------------------------------------------------


async def test_the_guides_sample_push_replays(api: Api, db: asyncpg.Connection) -> None:
    await api.ok("Ping", {}, employee(1))  # the sample's assignee, user 1, is a known employee
    assert await api.ok("PushCase", PUSH_CASE_REQUEST, INTEGRATOR) == PUSH_CASE_RESPONSE
    view = await case_view(api, 1)
    topic_id = view["CaseTopic"]["TopicID"]
    assert view["CaseTopic"] == {
        "TopicID": topic_id,
        "TopicName": "TopicName",
        "TopicDisplayName": "TopicName",
        "IsDeleted": False,
    }
    assert {k: view.get(k) for k in ("Title", "Description", "Summary", "Solution", "Priority", "IsWarranty")} == {
        "Title": "Something wrong",
        "Description": "It rings, but it's not a phone",
        "Summary": "After investigating, it was a phone",
        "Solution": "Gave customer a banana so it wouldn't ring",
        "Priority": 1,
        "IsWarranty": False,
    }
    assert view["StatusName"] == "SomeStatus" and view["BackendID"] == "ID-A-123"
    assert (view["ReportingTime"], view["LastInteractionTime"], view["AssignedOn"]) == (
        "2011-01-01T00:00:00.000Z",
        "2011-01-01T00:00:00.000Z",
        "2011-01-01T00:00:00.000Z",
    )
    assert "ClosingTime" not in view  # SomeStatus was created, and auto-created statuses are open
    assert view["AssigneeID"] == 1 and view["AssigneeName"] == "Pedro Pascal"
    assert view["Customer"] == {"ID": FIRST_PUSHED_ID, "EmailAddress": "cust@om.er", "BackendID": "CUST123"}
    topic = await db.fetchrow("SELECT name, parent_id, backend_id FROM case_topics WHERE id = $1", topic_id)
    assert dict(topic) == {"name": "TopicName", "parent_id": None, "backend_id": None}
    status = await db.fetchrow("SELECT name, is_closed, is_system FROM case_statuses WHERE name = 'SomeStatus'")
    assert dict(status) == {"name": "SomeStatus", "is_closed": False, "is_system": False}
    case = await db.fetchrow("SELECT backend_system_id, backend_id, customer_id, created_by FROM cases WHERE id = 1")
    assert dict(case) == {
        "backend_system_id": "Sys123",
        "backend_id": "ID-A-123",
        "customer_id": FIRST_PUSHED_ID,
        "created_by": 70,
    }
    user = await db.fetchrow("SELECT * FROM users WHERE id = $1", FIRST_PUSHED_ID)
    assert (user["user_type"], user["is_pushed"], user["backend_id"], user["email_address"]) == (
        2,
        True,
        "CUST123",
        "cust@om.er",
    )
    profile = dict(await db.fetchrow("SELECT * FROM customer_profiles WHERE user_id = $1", FIRST_PUSHED_ID))
    profile.pop("last_modification_time")
    assert profile == {
        "user_id": FIRST_PUSHED_ID,
        "gender": "O",
        "initials": "",
        "first_name": "",
        "last_name": "",
        "email_address": "cust@om.er",
        "phone_number": "",
        "date_of_birth": profile["date_of_birth"],
        "place_of_birth": "CUST123",
        "bank_account": "CUST123",
        "nickname": "CUST123",
        "language_id": "CUST123",
        "country_id": "CUST123",
        "fiscal_id": "CUST123",
        "social_security_number": "CUST123",
        "title": "CUST123",
        "salutation": "CUST123",
        "account_type": 0,
        "backend_relation_id": "CUST123",
        "company_name": "",
        "company_registration_number": "",
        "company_vat_number": "",
        "company_fiscal_id": "",
    }
    assert profile["date_of_birth"].isoformat() == "2011-01-01T00:00:00+00:00"
    kinds = await db.fetch("SELECT kind, country_id, city FROM customer_addresses ORDER BY kind")
    assert [tuple(r) for r in kinds] == [("billing", "", ""), ("shipping", "", "")]
    assert await ledger(db, 1) == [
        "Case pushed with priority `Medium`",
        "Case status set to `SomeStatus`",
        "Case assigned to `Pedro Pascal`",
    ]


async def test_the_guides_custom_fields_are_unknown_until_defined_and_nothing_is_written(
    api: Api, db: asyncpg.Connection
) -> None:
    before = await snapshot(db)
    body = {**PUSH_CASE_REQUEST, "CustomFields": PUSH_CASE_CUSTOM_FIELDS}
    err = await api.error("PushCase", body, INTEGRATOR, 400)
    assert (err["Code"], err["Message"], err["Data"]) == (
        "CustomFields:UnknownFieldForType",
        "There is no case custom field named `CustomField1`.",
        {"Field": "CustomFields.CustomField1"},
    )
    after = await snapshot(db)
    after["users"] = [u for u in after["users"] if u["id"] != 70]  # the caller's own just-in-time record
    assert after == before


# --- identity, retries, updates -------------------------------------------------------------------------


async def test_a_second_push_of_the_same_identity_is_409_and_changes_nothing(api: Api, db: asyncpg.Connection) -> None:
    case_id = (await api.ok("PushCase", PUSH_CASE_REQUEST, INTEGRATOR))["ID"]
    before = await snapshot(db)
    err = await api.error("PushCase", PUSH_CASE_REQUEST, INTEGRATOR, 409)
    assert (err["Code"], err["Type"]) == ("Case:CaseWithBackendIDAlreadyExists", "Conflict")
    assert await snapshot(db) == before
    changed = copy.deepcopy(PUSH_CASE_REQUEST) | {"Update": True, "Title": "Something else", "Priority": 2}
    assert await api.ok("PushCase", changed, INTEGRATOR) == {"ID": case_id}
    view = await case_view(api, case_id)
    assert (view["Title"], view["Priority"]) == ("Something else", 2)
    assert await db.fetchval("SELECT count(*) FROM cases") == 1
    assert (await ledger(db, case_id))[-2:] == ["Case title set to `Something else`", "Case priority set to `High`"]
    # An identical update changes nothing and writes no ledger line.
    lines = await ledger(db, case_id)
    assert await api.ok("PushCase", changed, INTEGRATOR) == {"ID": case_id}
    assert await ledger(db, case_id) == lines


async def test_the_backend_system_comes_from_the_body_else_the_header_else_empty(
    api: Api, db: asyncpg.Connection
) -> None:
    body = push()
    del body["BackendSystemID"]
    r = await api.call("PushCase", body, INTEGRATOR, EVA_IDs_BackendSystemID="ERP")
    assert r.status_code == 200, r.text
    no_system = (await api.ok("PushCase", body, INTEGRATOR))["ID"]
    from_body = (await api.ok("PushCase", push(BackendSystemID="ERP2"), INTEGRATOR))["ID"]
    rows = await db.fetch("SELECT id, backend_system_id, backend_id FROM cases ORDER BY id")
    assert [tuple(r) for r in rows] == [
        (r.json()["ID"], "ERP", "C-1"),
        (no_system, None, "C-1"),
        (from_body, "ERP2", "C-1"),
    ]
    # The header's system and the body's are the same identity.
    r = await api.call("PushCase", push(BackendSystemID="ERP"), INTEGRATOR)
    assert r.status_code == 409 and r.json()["Error"]["Code"] == "Case:CaseWithBackendIDAlreadyExists"


async def test_an_id_updates_that_case_and_may_change_its_backend_id(api: Api, db: asyncpg.Connection) -> None:
    case_id = (await api.ok("PushCase", push(), INTEGRATOR))["ID"]
    assert await api.ok("PushCase", push(ID=case_id, BackendID="C-1-renamed"), INTEGRATOR) == {"ID": case_id}
    assert await db.fetchval("SELECT backend_id FROM cases WHERE id = $1", case_id) == "C-1-renamed"
    assert "Case backend ID set to `C-1-renamed`" in await ledger(db, case_id)
    other = (await api.ok("PushCase", push(BackendID="C-2"), INTEGRATOR))["ID"]
    err = await api.error("PushCase", push(ID=other, BackendID="C-1-renamed"), INTEGRATOR, 409)
    assert err["Code"] == "Case:CaseWithBackendIDAlreadyExists"
    err = await api.error("PushCase", push(ID=999), INTEGRATOR, 404)
    assert err["Code"] == "Case:NotFound"


async def test_update_keeps_what_the_push_leaves_out_and_clears_nulls(api: Api, db: asyncpg.Connection) -> None:
    first = push(Summary="First look", Solution="Refund", Priority=2, IsWarranty=True, Customer={"BackendID": "K1"})
    case_id = (await api.ok("PushCase", first, INTEGRATOR))["ID"]
    await api.ok("PushCase", push(Update=True), INTEGRATOR)
    view = await case_view(api, case_id)
    assert (view["Summary"], view["Solution"], view["Priority"], view["IsWarranty"]) == (
        "First look",
        "Refund",
        2,
        True,
    )
    assert view["Customer"]["BackendID"] == "K1"
    await api.ok("PushCase", push(Update=True, Summary=None, Solution=None, Customer=None), INTEGRATOR)
    view = await case_view(api, case_id)
    assert ("Summary" in view, "Solution" in view, "Customer" in view) == (False, False, False)
    assert (await ledger(db, case_id))[-3:] == [
        "Case customer removed",
        "Case summary removed",
        "Case solution removed",
    ]


async def test_twenty_simultaneous_pushes_of_a_new_case_create_exactly_one(api: Api, db: asyncpg.Connection) -> None:
    body = push(
        BackendID="RACE",
        CaseTopic={"Name": "Brand new topic"},
        Status="Brand new status",
        Customer={"BackendID": "RACER", "EmailAddress": "racer@shop.example"},
    )
    responses = await asyncio.gather(*(api.call("PushCase", body, INTEGRATOR) for _ in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 19, [r.text for r in responses if r.status_code not in (200, 409)]
    assert all(
        r.json()["Error"]["Code"] == "Case:CaseWithBackendIDAlreadyExists" for r in responses if r.status_code == 409
    )
    assert await db.fetchval("SELECT count(*) FROM cases WHERE backend_id = 'RACE'") == 1
    assert await db.fetchval("SELECT count(*) FROM users WHERE is_pushed") == 1
    assert await db.fetchval("SELECT count(*) FROM case_topics WHERE name = 'Brand new topic'") == 1
    assert await db.fetchval("SELECT count(*) FROM case_statuses WHERE name = 'Brand new status'") == 1
    # With Update: true every one of them succeeds, on the same case.
    body = {**body, "BackendID": "RACE-2", "Update": True}
    responses = await asyncio.gather(*(api.call("PushCase", body, INTEGRATOR) for _ in range(20)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["ID"] for r in responses}) == 1
    assert await db.fetchval("SELECT count(*) FROM cases") == 2
    assert await db.fetchval("SELECT count(*) FROM users WHERE is_pushed") == 1


async def test_simultaneous_pushes_of_one_new_customer_create_one_customer(api: Api, db: asyncpg.Connection) -> None:
    with_key = {"BackendID": "SAME", "EmailAddress": "same@shop.example"}
    email_only = {"EmailAddress": "SAME@shop.example"}
    bodies = [push(BackendID=f"S{n}", Customer=with_key if n % 2 else email_only) for n in range(12)]
    responses = await asyncio.gather(*(api.call("PushCase", body, INTEGRATOR) for body in bodies))
    assert {r.status_code for r in responses} == {200}, [r.text for r in responses]
    assert await db.fetchval("SELECT count(*) FROM users WHERE is_pushed") == 1
    assert await db.fetchval("SELECT count(DISTINCT customer_id) FROM cases") == 1
    assert await db.fetchval("SELECT backend_id FROM users WHERE is_pushed") == "SAME"


# --- customers ------------------------------------------------------------------------------------------


async def test_customers_are_matched_by_backend_id_then_email_and_updated(api: Api, db: asyncpg.Connection) -> None:
    address = {"Address1": "Main street", "HouseNumber": "1", "City": "Utrecht", "CountryID": "NL"}
    first = {
        "BackendID": "K-1",
        "EmailAddress": "Kim@Shop.Example",
        "FirstName": "Kim",
        "LastName": "Jansen",
        "ShippingAddress": address,
        "Company": {"Name": "Kim BV", "VatNumber": "NL001"},
    }
    a = (await api.ok("PushCase", push(BackendID="A", Customer=first), INTEGRATOR))["ID"]
    view = await case_view(api, a)
    assert view["Customer"] == {
        "ID": FIRST_PUSHED_ID,
        "FirstName": "Kim",
        "LastName": "Jansen",
        "FullName": "Kim Jansen",
        "EmailAddress": "Kim@Shop.Example",
        "BackendID": "K-1",
    }
    await api.ok(
        "PushCase",
        push(BackendID="A", Update=True, Customer={"BackendID": "K-1", "PhoneNumber": "+31 30 123"}),
        INTEGRATOR,
    )
    assert (await case_view(api, a))["Customer"]["PhoneNumber"] == "+31 30 123"
    # Same BackendID, a new e-mail and a billing address: the same customer, updated; shipping address kept.
    second = {"BackendID": "K-1", "EmailAddress": "kim@new.example", "BillingAddress": {**address, "City": "Delft"}}
    b = (await api.ok("PushCase", push(BackendID="B", Customer=second), INTEGRATOR))["ID"]
    # No BackendID, the e-mail in other letters: still Kim.
    c = (await api.ok("PushCase", push(BackendID="C", Customer={"EmailAddress": "KIM@new.example"}), INTEGRATOR))["ID"]
    owners = await db.fetch("SELECT customer_id FROM cases WHERE id = ANY ($1) ORDER BY id", [a, b, c])
    assert {r["customer_id"] for r in owners} == {FIRST_PUSHED_ID}
    user = await db.fetchrow("SELECT first_name, last_name, email_address FROM users WHERE id = $1", FIRST_PUSHED_ID)
    assert tuple(user) == ("Kim", "Jansen", "KIM@new.example")  # as last pushed
    addresses = await db.fetch("SELECT kind, address1, city FROM customer_addresses ORDER BY kind")
    assert [tuple(r) for r in addresses] == [
        ("billing", "Main street", "Delft"),
        ("shipping", "Main street", "Utrecht"),
    ]
    company = await db.fetchrow("SELECT company_name, company_vat_number FROM customer_profiles")
    assert tuple(company) == ("Kim BV", "NL001")
    # An address pushed again updates that kind; null removes it; a null Company clears the company details.
    third = {"BackendID": "K-1", "ShippingAddress": {"City": "Leiden", "CountryID": "NL"}, "BillingAddress": None}
    await api.ok("PushCase", push(BackendID="D", Customer={**third, "Company": None}), INTEGRATOR)
    addresses = await db.fetch("SELECT kind, address1, city FROM customer_addresses ORDER BY kind")
    assert [tuple(r) for r in addresses] == [("shipping", "Main street", "Leiden")]
    company = await db.fetchrow("SELECT company_name, company_vat_number, first_name FROM customer_profiles")
    assert tuple(company) == (None, None, "Kim")
    # Another BackendID with Kim's e-mail is someone else: a customer with another BackendID does not match.
    await api.ok(
        "PushCase", push(BackendID="E", Customer={"BackendID": "K-2", "EmailAddress": "kim@new.example"}), INTEGRATOR
    )
    assert await db.fetchval("SELECT count(*) FROM users WHERE is_pushed") == 2


async def test_an_employee_never_becomes_a_cases_customer(api: Api, db: asyncpg.Connection) -> None:
    await api.ok("Ping", {}, employee(5, email="staff@shop.example"))
    await api.ok("PushCase", push(Customer={"EmailAddress": "STAFF@shop.example"}), INTEGRATOR)
    customer_id = await db.fetchval("SELECT customer_id FROM cases")
    assert customer_id == FIRST_PUSHED_ID


async def test_a_token_holder_is_the_pushed_customer_their_backend_id_names(api: Api, db: asyncpg.Connection) -> None:
    # Pushed first, then the customer signs in: their token's backend_id claim names the pushed customer.
    case_id = (await api.ok("PushCase", push(Customer={"BackendID": "LOYAL-9", "FirstName": "Lou"}), INTEGRATOR))["ID"]
    lou = token(42, UserType.CUSTOMER, backend_id="LOYAL-9")
    listed = await api.ok("CustomerListCases", {}, lou)
    assert [c["ID"] for c in listed["Results"]] == [case_id]
    await api.ok("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": "Any news?"}, lou)
    author = await db.fetchval("SELECT created_by FROM interactions WHERE type = 0 AND case_id = $1", case_id)
    assert author == FIRST_PUSHED_ID
    # Signed in first, then pushed: the push finds the token holder by the same BackendID.
    sam = token(43, UserType.CUSTOMER, backend_id="LOYAL-10")
    await api.ok("Ping", {}, sam)
    other = (await api.ok("PushCase", push(BackendID="C-2", Customer={"BackendID": "LOYAL-10"}), INTEGRATOR))["ID"]
    assert await db.fetchval("SELECT customer_id FROM cases WHERE id = $1", other) == 43
    assert [c["ID"] for c in (await api.ok("CustomerListCases", {}, sam))["Results"]] == [other]
    # Anyone else sees neither case.
    assert (await api.ok("CustomerListCases", {}, customer(44)))["Results"] == []


async def test_token_subjects_in_the_pushed_customers_range_are_refused(api: Api) -> None:
    err = await api.error("Ping", {}, customer(FIRST_PUSHED_ID), 401)
    assert err["Code"] == "InvalidToken"
    assert "below 1000000000000000" in err["Message"]


# --- assignees ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assignee", "expected"),
    [
        ({"ID": 80}, 80),
        ({"CustomID": "E-81"}, 81),
        ({"EmailAddress": "EVE@shop.example"}, 82),
        ({"ID": 999, "CustomID": "E-81"}, 81),  # an unknown ID falls through to the CustomID
        ({"ID": 83}, None),  # a customer cannot be assigned
        ({"EmailAddress": "cora@shop.example"}, None),  # e-mail addresses find employees only
        ({"CustomID": "nobody"}, None),
        ({"ID": 84}, 84),  # a System user
        ({"ID": 80, "Remove": True}, None),
    ],
)
async def test_assignee_resolution(
    api: Api, db: asyncpg.Connection, assignee: dict[str, Any], expected: int | None
) -> None:
    await api.ok("Ping", {}, employee(80))
    await api.ok("Ping", {}, employee(81, custom_id="E-81"))
    await api.ok("Ping", {}, employee(82, email="eve@shop.example"))
    await api.ok("Ping", {}, token(83, UserType.CUSTOMER, email="cora@shop.example"))
    await api.ok("Ping", {}, token(84, UserType.SYSTEM))
    await api.ok("PushCase", push(Assignee=assignee, AssignedOn="2024-05-01T10:00:00+02:00"), INTEGRATOR)
    row = await db.fetchrow("SELECT assignee_id, assigned_on FROM cases")
    assert row["assignee_id"] == expected
    if expected is None:
        assert row["assigned_on"] is None
    else:
        assert row["assigned_on"].isoformat() == "2024-05-01T08:00:00+00:00"


async def test_remove_clears_the_assignee_on_update(api: Api, db: asyncpg.Connection) -> None:
    await api.ok("Ping", {}, employee(80))
    case_id = (await api.ok("PushCase", push(Assignee={"ID": 80}), INTEGRATOR))["ID"]
    row = await db.fetchrow("SELECT assignee_id, assigned_on FROM cases")
    assert row["assignee_id"] == 80 and row["assigned_on"] is not None
    await api.ok("PushCase", push(Update=True), INTEGRATOR)  # no Assignee: kept
    assert await db.fetchval("SELECT assignee_id FROM cases") == 80
    await api.ok("PushCase", push(Update=True, Assignee={"Remove": True}), INTEGRATOR)
    row = await db.fetchrow("SELECT assignee_id, assigned_on FROM cases")
    assert (row["assignee_id"], row["assigned_on"]) == (None, None)
    assert (await ledger(db, case_id))[-1] == "Case unassigned"


# --- topics and statuses --------------------------------------------------------------------------------


async def test_case_topic_resolution(api: Api, db: asyncpg.Connection) -> None:
    await db.execute("UPDATE case_topics SET backend_id = 'T-SHIP' WHERE id = 2")
    topic = db.fetchval

    async def pushed_topic(backend_id: str, case_topic: dict[str, Any]) -> int:
        case_id = (await api.ok("PushCase", push(BackendID=backend_id, CaseTopic=case_topic), INTEGRATOR))["ID"]
        return int(await topic("SELECT topic_id FROM cases WHERE id = $1", case_id))

    # By BackendID, whatever the name says.
    assert await pushed_topic("1", {"BackendID": "T-SHIP", "Name": "Ignored"}) == 2
    # Unknown BackendID: by name under the parent (case-insensitively), else created there with that BackendID.
    assert await pushed_topic("2", {"BackendID": "T-X", "Name": "payment"}) == 3
    late = await pushed_topic("3", {"BackendID": "T-LATE", "Name": "Late", "ParentBackendID": "T-SHIP"})
    assert tuple(await db.fetchrow("SELECT name, parent_id, backend_id FROM case_topics WHERE id = $1", late)) == (
        "Late",
        2,
        "T-LATE",
    )
    assert await pushed_topic("4", {"BackendID": "T-LATE"}) == late
    assert await pushed_topic("5", {"Name": "late", "ParentBackendID": "T-SHIP"}) == late
    # The guide's Topic name: found anywhere in the tree.
    body = push(BackendID="6", Topic="Late")
    del body["CaseTopic"]
    case_id = (await api.ok("PushCase", body, INTEGRATOR))["ID"]
    assert await topic("SELECT topic_id FROM cases WHERE id = $1", case_id) == late
    # Two topics named alike: ambiguous.
    await api.ok("PushCase", push(BackendID="7", CaseTopic={"Name": "Late"}), INTEGRATOR)  # a root "Late"
    body = push(BackendID="8", Topic="late")
    del body["CaseTopic"]
    err = await api.error("PushCase", body, INTEGRATOR, 400)
    assert (err["Code"], err["Data"]) == ("PushCase:MultipleOptionsForCaseTopicName", {"Field": "Topic"})
    err = await api.error(
        "PushCase", push(BackendID="9", CaseTopic={"Name": "X", "ParentBackendID": "NOPE"}), INTEGRATOR, 404
    )
    assert err["Code"] == "PushCase:UnknownParentTopic"
    body = push(BackendID="10")
    del body["CaseTopic"]
    err = await api.error("PushCase", body, INTEGRATOR, 400)
    assert err["Data"] == {"Field": "CaseTopic"}


@pytest.mark.parametrize("auto_create", [True, False])
async def test_auto_create_topic_setting(api: Api, db: asyncpg.Connection, auto_create: bool) -> None:
    admin = employee(90, ["PushCases:Settings"])
    await api.ok("SetPushCaseSettings", {"AutoCreateTopic": auto_create}, admin)
    before = await snapshot(db)
    r = await api.call("PushCase", push(CaseTopic={"Name": "Unheard of"}), INTEGRATOR)
    if auto_create:
        assert r.status_code == 200
        assert await db.fetchval("SELECT count(*) FROM case_topics WHERE name = 'Unheard of'") == 1
    else:
        assert r.status_code == 400 and r.json()["Error"]["Code"] == "PushCase:UnknownPushedTopic"
        after = await snapshot(db)
        after["users"] = [u for u in after["users"] if u["id"] != 70]
        assert after == before
    # A topic that exists is used either way.
    r = await api.call("PushCase", push(BackendID="C-2", CaseTopic={"Name": "Products"}), INTEGRATOR)
    assert r.status_code == 200


@pytest.mark.parametrize("auto_create", [True, False])
async def test_auto_create_status_setting(api: Api, db: asyncpg.Connection, auto_create: bool) -> None:
    admin = employee(90, ["PushCases:Settings"])
    await api.ok("SetPushCaseSettings", {"AutoCreateStatus": auto_create}, admin)
    r = await api.call("PushCase", push(Status="Waiting for parts"), INTEGRATOR)
    if auto_create:
        assert r.status_code == 200
        row = await db.fetchrow("SELECT s.name, s.is_closed FROM cases c JOIN case_statuses s ON s.id = c.status_id")
        assert tuple(row) == ("Waiting for parts", False)
    else:
        assert r.status_code == 400 and r.json()["Error"]["Code"] == "PushCase:UnknownPushedStatus"
        assert await db.fetchval("SELECT count(*) FROM cases") == 0
        assert await db.fetchval("SELECT count(*) FROM case_statuses") == 4
    # Statuses are found by name in any letters, then by BackendID.
    await db.execute("UPDATE case_statuses SET backend_id = 'DONE' WHERE id = 3")
    for n, status in enumerate(("inprogress", "DONE")):
        await api.ok("PushCase", push(BackendID=f"S{n}", Status=status), INTEGRATOR)
    rows = await db.fetch("SELECT status_id FROM cases WHERE backend_id IN ('S0', 'S1') ORDER BY backend_id")
    assert [r["status_id"] for r in rows] == [2, 3]


async def test_a_closed_status_sets_the_closing_time(api: Api, db: asyncpg.Connection) -> None:
    await api.ok("PushCase", push(Status="Completed", ClosingTime="2024-02-03"), INTEGRATOR)
    assert (await db.fetchval("SELECT closing_time FROM cases")).isoformat() == "2024-02-03T00:00:00+00:00"
    await api.ok("PushCase", push(BackendID="C-2", Status="Completed"), INTEGRATOR)
    assert await db.fetchval("SELECT closing_time IS NOT NULL FROM cases WHERE backend_id = 'C-2'")
    # Back to an open status: no closing time, whatever the push says.
    await api.ok("PushCase", push(Update=True, Status="InProgress", ClosingTime="2024-02-03"), INTEGRATOR)
    assert await db.fetchval("SELECT closing_time FROM cases WHERE backend_id = 'C-1'") is None


# --- times, units, interactions, related items ----------------------------------------------------------


async def test_timestamps_are_iso_8601_with_or_without_offset(api: Api, db: asyncpg.Connection) -> None:
    forms = {
        "2024-03-01": "2024-03-01T00:00:00+00:00",
        "2024-03-01T10:20:30": "2024-03-01T10:20:30+00:00",
        "2024-03-01 10:20:30.250Z": "2024-03-01T10:20:30.250000+00:00",
        "2024-03-01T10:20:30.5-03:00": "2024-03-01T13:20:30.500000+00:00",
    }
    for n, (sent, stored) in enumerate(forms.items()):
        await api.ok("PushCase", push(BackendID=f"T{n}", ReportingTime=sent), INTEGRATOR)
        value = await db.fetchval("SELECT reporting_time FROM cases WHERE backend_id = $1", f"T{n}")
        assert value.isoformat() == stored
    err = await api.error("PushCase", push(BackendID="bad", ReportingTime="01/01/11 00:00:00.000"), INTEGRATOR, 400)
    assert err["Data"] == {"Field": "ReportingTime"}
    assert err["Message"].startswith("ReportingTime must be an ISO 8601 date or date-time")


async def test_organization_units_resolve_by_backend_id(api: Api, db: asyncpg.Connection) -> None:
    await db.execute("INSERT INTO organization_units (id, backend_id, name) VALUES (5, 'STORE-5', 'Store 5')")
    body = push(AssignedOrganizationUnitBackendID="STORE-5", OriginatingOrganizationUnitBackendID="STORE-5")
    await api.ok("PushCase", body, INTEGRATOR)
    row = await db.fetchrow("SELECT assigned_organization_unit_id, originating_organization_unit_id FROM cases")
    assert tuple(row) == (5, 5)
    before = await snapshot(db)
    err = await api.error("PushCase", push(BackendID="C-2", AssignedOrganizationUnitBackendID="NOPE"), INTEGRATOR, 400)
    assert (err["Code"], err["Data"]) == (
        "PushCase:UnknownOrganizationUnit",
        {"Field": "AssignedOrganizationUnitBackendID"},
    )
    assert await snapshot(db) == before


async def test_interactions_are_upserted_by_backend_id(api: Api, db: asyncpg.Connection) -> None:
    first = [
        {"BackendID": "m1", "Text": "Where is my parcel?", "Type": 0},
        {"BackendID": "n1", "Text": "Carrier says lost", "Type": 1},
        {"BackendID": "e1", "Text": "Mail sent", "Type": 3},
    ]
    case_id = (await api.ok("PushCase", push(Interactions=first, Customer={"BackendID": "K"}), INTEGRATOR))["ID"]
    second = [
        {"BackendID": "m1", "Text": "Where is my parcel??", "Type": 0},
        {"BackendID": "e1", "Delete": True},
        {"BackendID": "m2", "Text": "Found it", "Type": 0},
    ]
    await api.ok("PushCase", push(Update=True, Interactions=second), INTEGRATOR)
    rows = await db.fetch(
        "SELECT backend_id, type, text FROM interactions WHERE case_id = $1 AND type <> 2 ORDER BY id", case_id
    )
    assert [tuple(r) for r in rows] == [
        ("m1", 0, "Where is my parcel??"),
        ("n1", 1, "Carrier says lost"),
        ("m2", 0, "Found it"),
    ]
    # The pushed customer sees the public ones, never the note.
    holder = token(45, UserType.CUSTOMER, backend_id="K")
    seen = await api.ok("CustomerListCaseInteractions", {"CaseID": case_id}, holder)
    assert [i["Text"] for i in seen["Results"] if i["Type"] != 2] == ["Found it", "Where is my parcel??"]
    err = await api.error("PushCase", push(Update=True, Interactions=[{"BackendID": "l", "Type": 2}]), INTEGRATOR, 400)
    assert err["Code"] == "CaseInteraction:TypeNotAllowed"


async def test_related_items_are_kept_like_set_case_related_data(api: Api, db: asyncpg.Connection) -> None:
    items = {
        "OrderID": "325",
        "Items": [
            {
                "OrderLineID": 1,
                "ProductID": "77",
                "SerialNumber": "SN-1",
                "IsWarranty": True,
                "WarrantyExpiration": "2026-01-01",
            },
            {"ProductID": 78},
        ],
    }
    case_id = (await api.ok("PushCase", push(CaseRelatedItems=items), INTEGRATOR))["ID"]
    again = {
        "Items": [
            {"ProductID": 78, "IsWarranty": True},
            {"OrderLineID": 1, "ProductID": 77, "SerialNumber": "SN-1", "Delete": True},
        ]
    }
    await api.ok("PushCase", push(Update=True, CaseRelatedItems=again), INTEGRATOR)
    view = await case_view(api, case_id)
    assert view["OrderID"] == 325
    assert [(i["ProductID"], i["IsWarranty"]) for i in view["RelatedItems"]] == [(78, True)]
    await api.ok("PushCase", push(Update=True, CaseRelatedItems=None), INTEGRATOR)
    view = await case_view(api, case_id)
    assert "RelatedItems" not in view and "OrderID" not in view


# --- refusals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "caller",
    [
        token(72, UserType.API, ["Cases:Manage"]),
        employee(73, ["Cases:Manage"]),
        token(74, UserType.CUSTOMER, ["PushCases:None"]),
    ],
)
async def test_push_needs_the_push_cases_functionality(api: Api, db: asyncpg.Connection, caller: str) -> None:
    before = await snapshot(db)
    err = await api.error("PushCase", PUSH_CASE_REQUEST, caller, 403)
    assert err["Type"] == "Forbidden"
    assert await snapshot(db) == before


async def test_an_employee_holding_push_cases_may_push(api: Api) -> None:
    assert (await api.ok("PushCase", push(), employee(75, ["PushCases:None"])))["ID"] > 0


async def test_a_failing_push_leaves_nothing_behind(api: Api, db: asyncpg.Connection) -> None:
    await api.ok("Ping", {}, INTEGRATOR)
    before = await snapshot(db)
    body = push(
        CaseTopic={"Name": "Fresh topic"},
        Status="Fresh status",
        Customer={"BackendID": "NEW", "ShippingAddress": {"CountryID": "NL"}},
        Interactions=[{"BackendID": "i1", "Text": "hi"}],
        CaseRelatedItems={"Items": [{"ProductID": 1}]},
        ClosingTime="not a time",
    )
    await api.error("PushCase", body, INTEGRATOR, 400)
    # Fails late: everything before the unknown unit (customer, topic, status) was written, then rolled back.
    body = {**body, "ClosingTime": None, "OriginatingOrganizationUnitBackendID": "UNKNOWN"}
    await api.error("PushCase", body, INTEGRATOR, 400)
    assert await snapshot(db) == before


async def test_external_ids_mode_is_refused(api: Api) -> None:
    r = await api.call("PushCase", push(), INTEGRATOR, EVA_IDs_Mode="ExternalIDs")
    assert r.status_code == 400
    assert r.json()["Error"]["Code"] == "ExternalIDsModeNotSupported"
    r = await api.call("PushCase", push(), INTEGRATOR, EVA_IDs_Mode="StringIDs")
    assert r.status_code == 200 and isinstance(r.json()["ID"], str)


# --- convergence ----------------------------------------------------------------------------------------

_identities = itertools.count(1)
maybe_text = st.one_of(st.none(), st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12))
PUSH_FIELDS = {
    "Title": st.sampled_from(["Late parcel", "Broken zip", "Wrong size"]),
    "Description": st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20),
    "Status": st.sampled_from(["New", "InProgress", "Completed", "On hold"]),
    "CaseTopic": st.sampled_from([{"Name": "Products"}, {"Name": "Shipping"}, {"Name": "Fresh"}]),
    "Priority": st.sampled_from([0, 1, 2, 9]),
    "Summary": maybe_text,
    "Solution": maybe_text,
    "IsWarranty": st.booleans(),
    "Customer": st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {"BackendID": st.sampled_from(["K1", "K2"]), "FirstName": st.sampled_from(["Ann", "Bo"])}
        ),
    ),
    "Interactions": st.lists(
        st.fixed_dictionaries({"BackendID": st.sampled_from(["a", "b"]), "Text": st.sampled_from(["x", "y", "z"])}),
        max_size=2,
    ),
}
pushes = st.lists(
    st.fixed_dictionaries({}, optional=PUSH_FIELDS),  # type: ignore[arg-type]
    min_size=1,
    max_size=4,
)


@PROPERTY_SETTINGS
@given(sequence=pushes)
async def test_repeated_pushes_with_update_converge_to_the_last_values(
    api: Api, db: asyncpg.Connection, sequence: list[dict[str, Any]]
) -> None:
    backend_id = f"P-{next(_identities)}"
    base = {
        "BackendID": backend_id,
        "Update": True,
        "Title": "Start",
        "Description": "",
        "Status": "New",
        "CaseTopic": {"Name": "Other"},
    }
    model: dict[str, Any] = {"Priority": 0, "IsWarranty": False, "Summary": None, "Solution": None, "Customer": None}
    interactions: dict[str, str] = {}
    model.update({k: v for k, v in base.items() if k != "Update"})
    case_id = None
    for fields in sequence:
        body = {**base, **fields}
        case_id = (await api.ok("PushCase", body, INTEGRATOR))["ID"]
        model.update(body)
        for i in fields.get("Interactions", []):
            interactions[i["BackendID"]] = i["Text"]
    view = await case_view(api, case_id)
    assert view["Title"] == model["Title"] and view.get("Description", "") == model["Description"]
    assert view["StatusName"] == model["Status"]
    assert view["CaseTopic"]["TopicName"] == model["CaseTopic"]["Name"]
    assert (view["Priority"], view["IsWarranty"]) == (model["Priority"], model["IsWarranty"])
    assert (view.get("Summary"), view.get("Solution")) == (model["Summary"], model["Solution"])
    customer_backend = (model["Customer"] or {}).get("BackendID")
    assert view.get("Customer", {}).get("BackendID") == customer_backend
    assert ("ClosingTime" in view) == (model["Status"] == "Completed")
    rows = await db.fetch(
        "SELECT backend_id, text FROM interactions WHERE case_id = $1 AND type <> 2 ORDER BY backend_id", case_id
    )
    assert {r["backend_id"]: r["text"] for r in rows} == interactions
    assert await db.fetchval("SELECT count(*) FROM cases WHERE backend_id = $1", backend_id) == 1


async def test_a_customer_without_keys_is_the_cases_current_customer(api: Api, db: asyncpg.Connection) -> None:
    await api.ok("PushCase", push(Customer={"FirstName": "Nameless"}), INTEGRATOR)
    await api.ok("PushCase", push(Update=True, Customer={"LastName": "One"}), INTEGRATOR)
    rows = await db.fetch("SELECT id, first_name, last_name FROM users WHERE is_pushed")
    assert [tuple(r) for r in rows] == [(FIRST_PUSHED_ID, "Nameless", "One")]
    await api.ok("PushCase", push(BackendID="C-2", Customer={"FirstName": "Other"}), INTEGRATOR)
    assert await db.fetchval("SELECT count(*) FROM users WHERE is_pushed") == 2


def leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value (the value itself, each key of an object, each item of a list)."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found += leaf_paths(item, (*path, n))
    return found


FULL_PUSH = {
    **PUSH_CASE_REQUEST,
    "CaseTopic": {"BackendID": "T1", "Name": "Topic one", "ParentBackendID": None},
    "Interactions": [{"BackendID": "i1", "Text": "hello", "Type": 0}],
    "CaseRelatedItems": {"OrderID": 5, "Items": [{"ProductID": 7, "WarrantyExpiration": "2030-01-01"}]},
    "CustomFields": {"Colour": "red"},
}


@PROPERTY_SETTINGS
@given(data=st.data())
async def test_a_push_with_any_one_value_replaced_never_fails_with_500_or_half_writes(
    api: Api, db: asyncpg.Connection, data: st.DataObject
) -> None:
    from tests.strategies import json_values

    await api.ok("Ping", {}, INTEGRATOR)
    if not await db.fetchval("SELECT count(*) FROM custom_fields"):
        await db.execute("INSERT INTO custom_fields (name, data_type) VALUES ('Colour', 0)")
    body = copy.deepcopy(FULL_PUSH)
    body["BackendID"] = f"F-{next(_identities)}"
    path = data.draw(st.sampled_from(leaf_paths(body)[1:]), label="path")
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = data.draw(json_values, label="value")
    before = await snapshot(db)
    r = await api.call("PushCase", body, INTEGRATOR)
    assert r.status_code < 500, r.text
    if r.status_code != 200:
        assert await snapshot(db) == before, r.text


LOCK_PUSH = "SELECT identity_case_id FROM push_reads($1, $2, $3, NULL, NULL, NULL, NULL, NULL)"


async def test_a_push_by_e_mail_waits_for_a_push_creating_that_customer(db: asyncpg.Connection, db_dsn: str) -> None:
    """Deterministic: the first push holds its transaction open; the second, knowing only the e-mail address,
    waits for it and then finds the same customer instead of creating a second one."""
    other = await asyncpg.connect(db_dsn)
    try:
        first_tx = db.transaction()
        await first_tx.start()
        profile = {"email_address": "same@shop.example"}
        pushed = PushedCustomer("SAME", "same@shop.example", profile, {})
        await db.execute(LOCK_PUSH, "crm", "first", customer_keys(pushed))  # as a push of case `first` locks
        first = await upsert_customer(db, pushed, None)

        async def second_push() -> int:
            async with other.transaction():
                pushed = PushedCustomer(None, "SAME@shop.example", {"email_address": "SAME@shop.example"}, {})
                await other.execute(LOCK_PUSH, "crm", "second", customer_keys(pushed))
                return await upsert_customer(other, pushed, None)

        second = asyncio.create_task(second_push())
        await asyncio.sleep(0.3)
        assert not second.done()  # it waits on the e-mail address's lock
        await first_tx.commit()
        assert await second == first
        assert await db.fetchval("SELECT count(*) FROM users WHERE is_pushed") == 1
    finally:
        await other.close()


def customer_with_email(user_id: int, email: str, verified: bool | None) -> str:
    claims: dict[str, Any] = {"sub": str(user_id), "user_type": 2, "email": email, "exp": int(time.time()) + 600}
    if verified is not None:
        claims["email_verified"] = verified
    return jwt.encode(claims, SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    ("verified", "trust_unverified", "matched"),
    [(None, False, False), (False, False, False), (True, False, True), (None, True, True), (False, True, True)],
)
async def test_a_push_matches_a_token_holder_by_email_only_when_the_address_is_trusted(
    api: Api, db: asyncpg.Connection, verified: bool | None, trust_unverified: bool, matched: bool
) -> None:
    # Anyone can sign in claiming someone's address; a push must not hand them that person's case unless the
    # identity provider vouched for the address (email_verified) or the operator chose to trust unverified ones.
    await api.ok("Ping", {}, customer_with_email(60, "victim@shop.example", verified))
    await api.ok("SetPushCaseSettings", {"MatchUnverifiedEmail": trust_unverified}, employee(61, ["PushCases"]))
    await api.ok("PushCase", push(Customer={"EmailAddress": "Victim@shop.example"}), INTEGRATOR)
    customer_id = await db.fetchval("SELECT customer_id FROM cases")
    assert customer_id == (60 if matched else FIRST_PUSHED_ID)
    assert await db.fetchval("SELECT email_verified FROM users WHERE id = 60") is (verified is True)


# --- fewer round trips, same checks (issue 13) ----------------------------------------------------------

ADMIN = employee(72, ["CustomFields:Create", "PushCases:Settings"])


async def test_a_second_process_sees_custom_fields_and_settings_another_changed(
    api: Api, db: asyncpg.Connection, db_dsn: str
) -> None:
    # The custom fields and push settings a process keeps are filed under the database's catalogue version:
    # whatever another instance commits raises it, and the next push reads them again.
    body = push(CustomFields={"Colour": "red"})
    err = await api.error("PushCase", body, INTEGRATOR, 400)  # this process now holds a catalogue without it
    assert err["Code"] == "CustomFields:UnknownFieldForType"
    async with serving(make_settings(db_dsn)) as other:
        field_id = (await other.ok("CreateCustomField", {"Name": "Colour", "DataType": 0}, ADMIN))["ID"]
        await other.ok("SetPushCaseSettings", {"AutoCreateTopic": False}, ADMIN)
    case_id = (await api.ok("PushCase", body, INTEGRATOR))["ID"]
    value = await db.fetchval(
        "SELECT value FROM case_custom_field_values WHERE case_id = $1 AND custom_field_id = $2", case_id, field_id
    )
    assert value == '"red"'
    unknown_topic = push(BackendID="C-2", CaseTopic={"BackendID": "T-NEW", "Name": "Brand new"})
    err = await api.error("PushCase", unknown_topic, INTEGRATOR, 400)
    assert err["Code"] == "PushCase:UnknownPushedTopic", err


async def test_the_catalogue_version_rises_with_committed_changes_only(db: asyncpg.Connection) -> None:
    version = "SELECT version FROM catalogue_version"
    before = await db.fetchval(version)
    async with db.transaction():
        await db.execute("INSERT INTO settings (name, value) VALUES ('PushCases:AutoCreateTopic', 'false')")
        assert await db.fetchval(version) == before  # raised at commit, not before
    assert await db.fetchval(version) == before + 1
    tx = db.transaction()
    await tx.start()
    await db.execute("INSERT INTO custom_fields (name, data_type) VALUES ('Size', 0)")
    await tx.rollback()
    assert await db.fetchval(version) == before + 1
    await db.execute("UPDATE custom_fields SET name = name")  # no row: nothing to raise
    assert await db.fetchval(version) == before + 1
    await db.execute("INSERT INTO custom_fields (name, data_type) VALUES ('Size', 0)")
    assert await db.fetchval(version) == before + 2


async def test_an_unchanged_customer_profile_is_not_written_again_and_a_changed_one_is(
    api: Api, db: asyncpg.Connection
) -> None:
    customer_data = {"BackendID": "K-1", "FirstName": "Ada", "LastName": "Lovelace", "EmailAddress": "ada@x.example"}
    await api.ok("PushCase", push(BackendID="C-1", Customer=customer_data), INTEGRATOR)
    version = "SELECT xmin::text FROM customer_profiles WHERE user_id = $1"
    written = await db.fetchval(version, FIRST_PUSHED_ID)
    await api.ok("PushCase", push(BackendID="C-2", Customer=customer_data), INTEGRATOR)
    assert await db.fetchval(version, FIRST_PUSHED_ID) == written
    await api.ok("PushCase", push(BackendID="C-3", Customer=customer_data | {"LastName": "King"}), INTEGRATOR)
    assert await db.fetchval(version, FIRST_PUSHED_ID) != written
    row = await db.fetchrow("SELECT first_name, last_name FROM users WHERE id = $1", FIRST_PUSHED_ID)
    assert tuple(row) == ("Ada", "King")
    profile = await db.fetchrow(
        "SELECT last_name, email_address FROM customer_profiles WHERE user_id = $1", FIRST_PUSHED_ID
    )
    assert tuple(profile) == ("King", "ada@x.example")


async def push_statements(db: asyncpg.Connection, catalogue: CatalogueCache, body: dict[str, Any]) -> list[str]:
    """The statements one PushCase sends (their names in sql/*.sql), its handler run on a counting connection in
    a transaction as the dispatcher runs it, with `catalogue` as the process's."""
    op = build_registry().get("PushCase")
    assert op is not None
    conn = CountingConnection(db)
    caller = Caller(user_id=70, user_type=UserType.API, functionalities={"PushCases": Scope.NONE})
    ctx = Context(conn, caller, "request", PageTokens(b"k" * 32), catalogue=catalogue)  # type: ignore[arg-type]
    async with db.transaction():
        await op.handler(ctx, op.decoder.decode(json.dumps(body).encode()))
    return [statement_name(sql) for sql in conn.statements]


async def test_a_push_for_a_known_customer_is_two_statements_new_or_update(db: asyncpg.Connection) -> None:
    # The push's locks and lookups in one call, then the case with its interactions and ledger in one statement
    # (with BEGIN and COMMIT, four round trips), once the catalogue is cached and the customer's profile unchanged.
    await record_user(db, Caller(user_id=70, user_type=UserType.API, functionalities={}))
    await db.execute("UPDATE case_topics SET backend_id = 'T-RET' WHERE id = 2")
    catalogue = CatalogueCache()
    customer_data = {"BackendID": "K-1", "FirstName": "Ada", "LastName": "Lovelace"}
    interactions = [
        {"BackendID": "m1", "Text": "Where is it?", "Type": 0},
        {"BackendID": "n1", "Text": "Asked", "Type": 1},
    ]
    first = await push_statements(db, catalogue, push(Customer=customer_data, Interactions=interactions))
    assert first[0] == "push_reads" and first[-1] == "insert_case" and "create_customer" in first
    new = push(BackendID="C-2", Customer=customer_data, Interactions=interactions)
    assert await push_statements(db, catalogue, new) == ["push_reads", "insert_case"]
    update = new | {"Update": True, "Title": "Still missing"}
    assert await push_statements(db, catalogue, update) == ["push_reads", "update_case"]
    case_id = await db.fetchval("SELECT id FROM cases WHERE backend_id = 'C-2'")
    assert await ledger(db, case_id) == [
        "Case pushed with priority `Low`",
        "Case status set to `New`",
        "Case title set to `Still missing`",
    ]
    rows = await db.fetch("SELECT type, text FROM interactions WHERE case_id = $1 ORDER BY id", case_id)
    assert [tuple(r) for r in rows] == [
        (0, "Where is it?"),
        (1, "Asked"),
        (2, "Case pushed with priority `Low`"),
        (2, "Case status set to `New`"),
        (2, "Case title set to `Still missing`"),
    ]
