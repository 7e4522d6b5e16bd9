"""Service levels: calendars and policies through their services, and the database's business-time functions
agreeing with domain/business_time.py (the reference) for any calendar, start and target (hypothesis)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evacase.domain.business_time import add_business_minutes, business_minutes_between
from evacase.domain.service_levels import calendar_of
from tests.helpers import Api, customer, employee
from tests.strategies import PROPERTY_SETTINGS

ADMIN = employee(30, ["ServiceLevelPolicies:Manage"])
OFFICE = {
    "Monday": [{"From": "09:00", "To": "12:30"}, {"From": "13:30", "To": "17:30"}],
    "Friday": [{"From": "09:00", "To": "17:00"}],
}


async def calendar(api: Api, **fields: Any) -> int:
    body = {"Name": "Office", "TimeZone": "Europe/Amsterdam", "BusinessHours": OFFICE, **fields}
    calendar_id: int = (await api.ok("CreateServiceLevelCalendar", body, ADMIN))["ID"]
    return calendar_id


async def test_a_calendar_round_trips(api: Api) -> None:
    calendar_id = await calendar(api, Holidays=["2026-12-25", "2026-01-01", "2026-12-25"])
    got = await api.ok("GetServiceLevelCalendar", {"ID": calendar_id}, ADMIN)
    assert {k: v for k, v in got.items() if not k.endswith("Time")} == {
        "ID": calendar_id,
        "Name": "Office",
        "TimeZone": "Europe/Amsterdam",
        "BusinessHours": {
            "Monday": OFFICE["Monday"],
            "Tuesday": [],
            "Wednesday": [],
            "Thursday": [],
            "Friday": OFFICE["Friday"],
            "Saturday": [],
            "Sunday": [],
        },
        "Holidays": ["2026-01-01", "2026-12-25"],
    }
    update = {
        "ID": calendar_id,
        "TimeZone": "America/New_York",
        "BusinessHours": {"Sunday": [{"From": "00:00", "To": "24:00"}]},
    }
    assert await api.ok("UpdateServiceLevelCalendar", update, ADMIN) == {}
    got = await api.ok("GetServiceLevelCalendar", {"ID": calendar_id}, ADMIN)
    assert (got["TimeZone"], got["BusinessHours"]["Sunday"], got["BusinessHours"]["Monday"], got["Holidays"]) == (
        "America/New_York",
        [{"From": "00:00", "To": "24:00"}],
        [],
        ["2026-01-01", "2026-12-25"],
    )
    second = await calendar(api, Name="Support")
    page = await api.ok("ListServiceLevelCalendars", {"InitialPageConfig": {"Limit": 1}}, ADMIN)
    assert [c["ID"] for c in page["Results"]] == [second]
    page = await api.ok("ListServiceLevelCalendars", {"PageToken": page["NextPageToken"]}, ADMIN)
    assert [c["ID"] for c in page["Results"]] == [calendar_id]
    assert await api.ok("DeleteServiceLevelCalendar", {"ID": second}, ADMIN) == {}
    err = await api.error("GetServiceLevelCalendar", {"ID": second}, ADMIN, 404)
    assert err["Code"] == "ServiceLevelCalendar:NotFound"


REFUSED_CALENDARS = [
    {"TimeZone": "Mars/Olympus_Mons"},
    {"TimeZone": "../../etc/passwd"},
    {"BusinessHours": {}},
    {"BusinessHours": {"Funday": [{"From": "09:00", "To": "17:00"}]}},
    {"BusinessHours": {"Monday": [{"From": "17:00", "To": "09:00"}]}},
    {"BusinessHours": {"Monday": [{"From": "09:00", "To": "13:00"}, {"From": "12:00", "To": "17:00"}]}},
    {"BusinessHours": {"Monday": [{"From": "9:00", "To": "17:00"}]}},
    {"BusinessHours": {"Monday": [{"From": "09:00", "To": "24:30"}]}},
]


async def test_calendars_that_are_refused(api: Api, db: asyncpg.Connection) -> None:
    for fields in REFUSED_CALENDARS:
        body = {"Name": "Office", "TimeZone": "Europe/Amsterdam", "BusinessHours": OFFICE, **fields}
        err = await api.error("CreateServiceLevelCalendar", body, ADMIN, 400)
        assert err["Code"] == "ServiceLevelCalendar:Invalid", fields
    assert await db.fetchval("SELECT count(*) FROM service_level_calendars") == 0


async def test_policies_round_trip_in_the_order_they_apply(api: Api) -> None:
    calendar_id = await calendar(api)
    body = {
        "Name": "Urgent",
        "Position": 2,
        "CalendarID": calendar_id,
        "Conditions": {"Priorities": [2, 9], "TopicIDs": [2], "Origins": ["Web", "Email"]},
        "FirstResponseMinutes": 60,
        "ResolutionMinutes": 480,
        "WarningPercent": 75,
    }
    urgent = (await api.ok("CreateServiceLevelPolicy", body, ADMIN))["ID"]
    fallback = (await api.ok("CreateServiceLevelPolicy", {"Name": "Everything else", "Position": 9}, ADMIN))["ID"]
    first = (
        await api.ok("CreateServiceLevelPolicy", {"Name": "VIP", "Position": -1, "NextResponseMinutes": 30}, ADMIN)
    )["ID"]
    got = await api.ok("GetServiceLevelPolicy", {"ID": urgent}, ADMIN)
    assert {k: v for k, v in got.items() if not k.endswith("Time")} == {**body, "ID": urgent}
    page = await api.ok("ListServiceLevelPolicies", {"InitialPageConfig": {"Limit": 2}}, ADMIN)
    assert [p["ID"] for p in page["Results"]] == [first, urgent]
    page = await api.ok("ListServiceLevelPolicies", {"PageToken": page["NextPageToken"]}, ADMIN)
    assert [p["ID"] for p in page["Results"]] == [fallback]
    update = {"ID": urgent, "Conditions": None, "CalendarID": None, "WarningPercent": 90}
    assert await api.ok("UpdateServiceLevelPolicy", update, ADMIN) == {}
    got = await api.ok("GetServiceLevelPolicy", {"ID": urgent}, ADMIN)
    assert (got["Conditions"], got.get("CalendarID"), got["WarningPercent"], got["FirstResponseMinutes"]) == (
        {},
        None,
        90,
        60,
    )
    assert await api.ok("DeleteServiceLevelPolicy", {"ID": fallback}, ADMIN) == {}
    await api.error("GetServiceLevelPolicy", {"ID": fallback}, ADMIN, 404)


async def test_a_calendar_in_use_stays_and_a_policy_needs_an_existing_calendar(api: Api) -> None:
    calendar_id = await calendar(api)
    await api.ok("CreateServiceLevelPolicy", {"Name": "Office hours", "CalendarID": calendar_id}, ADMIN)
    err = await api.error("DeleteServiceLevelCalendar", {"ID": calendar_id}, ADMIN, 409)
    assert err["Code"] == "ServiceLevelCalendar:InUse"
    err = await api.error("CreateServiceLevelPolicy", {"Name": "x", "CalendarID": 999}, ADMIN, 404)
    assert err["Code"] == "ServiceLevelCalendar:NotFound"
    err = await api.error("CreateServiceLevelPolicy", {"Name": "x", "Conditions": {"Origins": ["Fax"]}}, ADMIN, 400)
    assert err["Code"] == "ServiceLevelPolicy:Invalid"
    err = await api.error("CreateServiceLevelPolicy", {"Name": "x", "Conditions": {"Priority": [1]}}, ADMIN, 400)
    assert "Priority" in err["Message"]  # an unknown condition is refused, never ignored


async def test_customers_and_other_staff_cannot_see_service_levels(api: Api) -> None:
    await api.error("ListServiceLevelPolicies", {}, customer(31), 403)
    await api.error("ListServiceLevelCalendars", {}, employee(32, ["Cases:Manage"]), 403)


# --- the database's arithmetic agrees with the reference --------------------------------------------------

ZONES = ["Europe/Amsterdam", "America/New_York", "UTC", "Australia/Lord_Howe", "Asia/Kathmandu"]
ranges_of_a_day = st.lists(st.integers(0, 24 * 4), min_size=2, max_size=6, unique=True).map(
    lambda marks: [list(pair) for pair in zip(*[iter(sorted(m * 15 for m in marks))] * 2, strict=False)]
)
openings = st.dictionaries(st.sampled_from([str(d) for d in range(1, 8)]), ranges_of_a_day, min_size=1).filter(
    lambda o: sum(e - b for day in o.values() for b, e in day) >= 60
)
instants = st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2027, 12, 31), timezones=st.just(dt.UTC))
# DST weekends of the zones above, where the arithmetic is most likely to disagree
transitions = st.sampled_from(
    [dt.datetime(2026, 3, 28, tzinfo=dt.UTC), dt.datetime(2026, 10, 24, tzinfo=dt.UTC),
     dt.datetime(2026, 3, 7, tzinfo=dt.UTC), dt.datetime(2026, 10, 31, tzinfo=dt.UTC),
     dt.datetime(2026, 4, 4, tzinfo=dt.UTC)]
).flatmap(lambda base: st.integers(0, 3 * 24 * 60).map(lambda m: base + dt.timedelta(minutes=m)))  # fmt: skip


@PROPERTY_SETTINGS
@given(
    zone=st.sampled_from(ZONES),
    opening=openings,
    holidays=st.lists(st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)), max_size=10),
    start=st.one_of(instants, transitions),
    minutes=st.integers(0, 3 * 24 * 60),
)
async def test_the_database_computes_due_times_as_the_reference_does(
    db: asyncpg.Connection,
    zone: str,
    opening: dict[str, list[list[int]]],
    holidays: list[dt.date],
    start: dt.datetime,
    minutes: int,
) -> None:
    row = {"time_zone": zone, "opening": opening, "holidays": holidays}
    calendar_id = await db.fetchval(
        "INSERT INTO service_level_calendars (name, time_zone, business_hours, opening, holidays)"
        " VALUES ('x', $1, '{}', $2::jsonb, $3) RETURNING id",
        zone,
        msgspec.json.encode(opening).decode(),
        holidays,
    )
    reference = calendar_of(row)
    due = add_business_minutes(reference, start, minutes)
    assert await db.fetchval("SELECT business_add($1, $2, $3)", calendar_id, start, minutes) == due
    elapsed = await db.fetchval("SELECT business_minutes($1, $2, $3)", calendar_id, start, due)
    assert float(elapsed) == pytest.approx(business_minutes_between(reference, start, due), abs=1e-6)
