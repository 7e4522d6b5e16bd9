"""Hostile input is a 4xx EVA error that writes nothing: patterns that would backtrack for hours, JSON nested a
thousand levels deep, times beyond the calendar, non-finite bounds (issue 11, defects 1, 5, 6, 7)."""

from __future__ import annotations

import asyncio
import faulthandler
from typing import Any

import asyncpg
import pytest

from evacase.patterns import MAX_PROGRAM_SIZE, MatchBudget, compile_pattern
from tests.dbstate import snapshot
from tests.helpers import Api, customer, employee, token

ADMIN = employee(50, ["CustomFields", "Cases"])
INTEGRATOR = token(53, 2048, ["PushCases"])
CUSTOMER = customer(52)
EVIL = r"^(a+)+$"
EVIL_VALUE = "a" * 30 + "!"  # with Python's re: hours


async def customer_field(api: Api, name: str, data_type: int, options: dict[str, Any]) -> int:
    field_id: int = (await api.ok("CreateCustomField", {"Name": name, "DataType": data_type}, ADMIN))["ID"]
    await api.ok(
        "SetCustomFieldOptions",
        {"CustomFieldID": field_id, "VisibleByUserTypes": 3, "EditableByUserTypes": 3, **options},
        ADMIN,
    )
    return field_id


async def known(api: Api, *tokens: str) -> None:
    """Record the callers first (their user rows are written on first sight), so snapshots compare effects only."""
    for tok in tokens:
        await api.ok("Ping", {}, tok)


def case_with(field_id: int, **value: Any) -> dict[str, Any]:
    return {"Title": "Title", "Description": "D", "TopicID": 1, "CustomFields": [{"CustomFieldID": field_id, **value}]}


# --- defect 1: regular expressions --------------------------------------------------------------------------


async def test_a_backtracking_pattern_is_checked_in_linear_time_and_other_requests_go_on(
    api: Api, db: asyncpg.Connection
) -> None:
    field_id = await customer_field(api, "Serial", 0, {"Regex": EVIL})
    await known(api, CUSTOMER)
    before = await snapshot(db)
    # With Python's re this request would hold the event loop for hours; RE2 answers at once.
    # A regression would block the event loop (no asyncio timeout could fire): the watchdog ends the run instead.
    faulthandler.dump_traceback_later(60, exit=True)
    try:
        create = api.call("CustomerCreateCase", case_with(field_id, StringValue=EVIL_VALUE), CUSTOMER)
        r, ping = await asyncio.wait_for(asyncio.gather(create, api.call("Ping", {}, CUSTOMER)), timeout=10)
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert (r.status_code, r.json()["Error"]["Code"], ping.status_code) == (400, "CustomFields:RegexNotMatched", 200), (
        r.text
    )
    assert await snapshot(db) == before
    ok = await api.ok("CustomerCreateCase", case_with(field_id, StringValue="aaaa"), CUSTOMER)
    assert await db.fetchval("SELECT value::text FROM case_custom_field_values WHERE case_id = $1", ok["ID"]) == (
        '"aaaa"'
    )


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", "invalid escape sequence"),  # backreference
        (r"(?=a)b", "invalid perl operator"),  # lookahead
        (r"a{1001}", "invalid repetition size"),
        (r"(", "missing )"),
        (r".{300}.{300}", "too complex"),
    ],
)
async def test_patterns_re2_cannot_run_in_bounded_time_are_refused_when_set(
    api: Api, db: asyncpg.Connection, pattern: str, reason: str
) -> None:
    field_id: int = (await api.ok("CreateCustomField", {"Name": "Serial", "DataType": 0}, ADMIN))["ID"]
    err = await api.error("SetCustomFieldOptions", {"CustomFieldID": field_id, "Regex": pattern}, ADMIN, 400)
    assert (err["Code"], err["Data"]) == ("CustomFields:InvalidRegex", {"Field": "Regex"})
    assert reason in err["Message"]
    assert await db.fetchval("SELECT regex FROM custom_fields WHERE id = $1", field_id) is None


async def test_one_requests_pattern_checks_share_a_budget(api: Api, db: asyncpg.Connection) -> None:
    pattern = r"[a-q][^u-z]{120}x"  # a large program, still under the cap
    size = compile_pattern(pattern).programsize
    assert size <= MAX_PROGRAM_SIZE
    field_id = await customer_field(api, "Notes", 5, {"Regex": pattern})  # Text: up to 10,000 characters
    await db.execute("UPDATE custom_fields SET is_array = true WHERE id = $1", field_id)
    values = [{"StringValue": "a" * 9_999 + "x"} for _ in range(10)]  # 10 x 10,000 characters x the program
    await known(api, CUSTOMER)
    before = await snapshot(db)
    err = await api.error("CustomerCreateCase", case_with(field_id, ArrayValues=values), CUSTOMER, 400)
    assert (err["Code"], err["Data"]) == ("CustomFields:RegexCheckTooExpensive", {"CustomFieldID": field_id})
    assert await snapshot(db) == before
    # Two such values fit the budget.
    assert 2 * 10_001 * size <= MatchBudget().remaining < 3 * 10_001 * size
    few = values[:2]
    case_id = (await api.ok("CustomerCreateCase", case_with(field_id, ArrayValues=few), CUSTOMER))["ID"]
    stored = await db.fetchval("SELECT value FROM case_custom_field_values WHERE case_id = $1", case_id)
    assert stored == '["' + "a" * 9_999 + 'x", "' + "a" * 9_999 + 'x"]'


async def test_a_pattern_stored_before_re2_that_re2_refuses_is_a_400_not_a_500(
    api: Api, db: asyncpg.Connection
) -> None:
    field_id = await customer_field(api, "Serial", 0, {})
    await db.execute("UPDATE custom_fields SET regex = '^(?!x)a' WHERE id = $1", field_id)
    err = await api.error("CustomerCreateCase", case_with(field_id, StringValue="a"), CUSTOMER, 400)
    assert (err["Code"], err["Data"]) == ("CustomFields:InvalidRegex", {"CustomFieldID": field_id})


def test_the_budget_is_spent_by_length_times_program_size() -> None:
    budget = MatchBudget(remaining=1_000)
    size = compile_pattern("abc").programsize
    assert budget.search("abc", "xxabcxx", 1) is True  # search semantics: anywhere in the text
    assert budget.remaining == 1_000 - 8 * size


# --- defect 5: deep nesting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "tok"),
    [("Ping", CUSTOMER), ("CustomerCreateCase", CUSTOMER), ("PushCase", INTEGRATOR), ("ListCases", ADMIN)],
)
async def test_json_nested_a_thousand_levels_deep_is_a_400(
    api: Api, db: asyncpg.Connection, service: str, tok: str
) -> None:
    await known(api, tok)
    before = await snapshot(db)
    for body in ("[" * 1_000 + "]" * 1_000, '{"Title":' + "[" * 5_000 + "]" * 5_000 + "}"):
        r = await api.raw(service, body, tok)
        assert r.status_code == 400, r.text
        assert r.json()["Error"]["Code"] in ("MalformedJSON", "RequestValidationFailure")
    assert await snapshot(db) == before


# --- defect 6: times beyond the calendar --------------------------------------------------------------------


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
async def test_a_time_whose_utc_form_leaves_the_calendar_is_a_400_everywhere(
    api: Api, db: asyncpg.Connection, moment: str
) -> None:
    when = await customer_field(api, "When", 6, {})
    agent = employee(54, ["Cases"])
    case_id = (await api.ok("CreateCase", {"Title": "Title", "Description": "D", "TopicID": 1}, agent))["ID"]
    mine = (await api.ok("CustomerCreateCase", {"Title": "Title", "Description": "D", "TopicID": 1}, CUSTOMER))["ID"]
    await known(api, INTEGRATOR)
    before = await snapshot(db)
    value = [{"CustomFieldID": when, "DateTimeValue": moment}]
    calls = [
        ("CustomerCreateCase", case_with(when, DateTimeValue=moment), CUSTOMER),
        ("CustomerUpdateCase", {"ID": mine, "CustomFields": value}, CUSTOMER),
        ("CreateCase", case_with(when, DateTimeValue=moment), agent),
        ("UpdateCase", {"ID": case_id, "CustomFields": value}, agent),
        ("SetCustomFieldOptions", {"CustomFieldID": when, "MinimumDate": moment}, ADMIN),
        (
            "SetCaseRelatedData",
            {"CaseID": case_id, "RelatedItems": [{"ProductID": 1, "WarrantyExpiration": moment}]},
            agent,
        ),
        (
            "PushCase",
            {
                "BackendID": "X",
                "CaseTopic": {"Name": "T"},
                "Title": "Title",
                "Status": "New",
                "CustomFields": {"When": moment},
            },
            INTEGRATOR,
        ),
        (
            "PushCase",
            {"BackendID": "Y", "CaseTopic": {"Name": "T"}, "Title": "Title", "ReportingTime": moment},
            INTEGRATOR,
        ),
    ]
    for service, body, tok in calls:
        r = await api.call(service, body, tok)
        assert r.status_code == 400, (service, r.text)
    assert await snapshot(db) == before


# --- defect 7: non-finite bounds ----------------------------------------------------------------------------


@pytest.mark.parametrize("bound", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_non_finite_number_bounds_are_refused(api: Api, db: asyncpg.Connection, bound: str) -> None:
    field_id = await customer_field(api, "Size", 3, {})
    for options in ({"MinimumValue": bound}, {"MaximumValue": bound}, {"MinimumValue": bound, "MaximumValue": 5}):
        body = {"CustomFieldID": field_id, **options}
        if bound == "1e999":  # a JSON number too large for a double
            raw = f'{{"CustomFieldID": {field_id}, "MinimumValue": 1e999}}'
            r = await api.raw("SetCustomFieldOptions", raw, ADMIN)
        else:
            r = await api.call("SetCustomFieldOptions", body, ADMIN)
        assert r.status_code == 400, r.text
    row = await db.fetchrow("SELECT minimum_value, maximum_value FROM custom_fields WHERE id = $1", field_id)
    assert tuple(row) == (None, None)
    await api.ok("CustomerCreateCase", case_with(field_id, NumberValue=3.5), CUSTOMER)
