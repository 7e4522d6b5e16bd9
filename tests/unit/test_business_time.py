"""Business time: due times in opening hours across weekends, holidays, several ranges a day, midnight and DST
changes (Europe/Amsterdam, America/New_York), and its properties. Pure functions, no database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evacase.domain.business_time import (
    Calendar,
    NoBusinessTime,
    add_business_minutes,
    business_minutes_between,
    local_instant,
)
from tests.strategies import PROPERTY_SETTINGS

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = {day: ((9 * 60, 17 * 60),) for day in range(5)}  # Monday to Friday, 09:00-17:00
SPLIT = {day: ((9 * 60, 12 * 60 + 30), (13 * 60 + 30, 17 * 60 + 30)) for day in range(5)}
ALWAYS = {day: ((0, 24 * 60),) for day in range(7)}


def local(zone: ZoneInfo, *parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=zone)  # type: ignore[misc]


def due(calendar: Calendar | None, start: dt.datetime, minutes: float, zone: ZoneInfo = AMSTERDAM) -> dt.datetime:
    return add_business_minutes(calendar, start, minutes).astimezone(zone)


def test_the_issues_example_friday_afternoon_is_due_monday_morning() -> None:
    calendar = Calendar(AMSTERDAM, OFFICE)
    assert due(calendar, local(AMSTERDAM, 2026, 11, 27, 16, 30), 60) == local(AMSTERDAM, 2026, 11, 30, 9, 30)
    in_new_york = Calendar(NEW_YORK, OFFICE)
    assert due(in_new_york, local(NEW_YORK, 2026, 11, 27, 16, 30), 60, NEW_YORK) == local(NEW_YORK, 2026, 11, 30, 9, 30)
    # The calendar's own time zone counts: 16:30 in New York is after hours in Amsterdam.
    assert due(calendar, local(NEW_YORK, 2026, 11, 27, 16, 30), 60) == local(AMSTERDAM, 2026, 11, 30, 10, 0)


def test_several_ranges_a_day_skip_the_lunch_break() -> None:
    calendar = Calendar(AMSTERDAM, SPLIT)
    assert due(calendar, local(AMSTERDAM, 2026, 12, 1, 12, 0), 60) == local(AMSTERDAM, 2026, 12, 1, 14, 0)
    assert due(calendar, local(AMSTERDAM, 2026, 12, 1, 12, 45), 30) == local(AMSTERDAM, 2026, 12, 1, 14, 0)
    assert due(calendar, local(AMSTERDAM, 2026, 12, 1, 17, 0), 60) == local(AMSTERDAM, 2026, 12, 2, 9, 30)


def test_holidays_have_no_opening_hours() -> None:
    christmas = Calendar(AMSTERDAM, OFFICE, frozenset({dt.date(2026, 12, 25)}))
    # Thursday 24 December 16:00 + 2 hours: one hour that day, Friday is a holiday, the weekend: Monday 10:00.
    assert due(christmas, local(AMSTERDAM, 2026, 12, 24, 16, 0), 120) == local(AMSTERDAM, 2026, 12, 28, 10, 0)


def test_zero_minutes_is_the_next_opening() -> None:
    calendar = Calendar(AMSTERDAM, OFFICE)
    assert due(calendar, local(AMSTERDAM, 2026, 11, 28, 23, 0), 0) == local(AMSTERDAM, 2026, 11, 30, 9, 0)
    assert due(calendar, local(AMSTERDAM, 2026, 11, 30, 10, 0), 0) == local(AMSTERDAM, 2026, 11, 30, 10, 0)


def test_no_calendar_counts_around_the_clock() -> None:
    start = local(AMSTERDAM, 2026, 3, 28, 12, 0)
    assert add_business_minutes(None, start, 24 * 60) == start.astimezone(dt.UTC) + dt.timedelta(hours=24)  # real


def test_ranges_over_midnight_end_at_the_next_day() -> None:
    calendar = Calendar(AMSTERDAM, {4: ((22 * 60, 24 * 60),), 5: ((0, 2 * 60),)})  # Friday 22:00 to Saturday 02:00
    assert due(calendar, local(AMSTERDAM, 2026, 11, 27, 23, 0), 120) == local(AMSTERDAM, 2026, 11, 28, 1, 0)


def test_dst_spring_forward_in_amsterdam() -> None:
    around = Calendar(AMSTERDAM, ALWAYS)
    # 29 March 2026: 02:00 becomes 03:00. A 24/7 local calendar's Sunday has 23 real hours.
    assert due(around, local(AMSTERDAM, 2026, 3, 28, 12, 0), 24 * 60) == local(AMSTERDAM, 2026, 3, 29, 13, 0)
    night = Calendar(AMSTERDAM, {6: ((60, 4 * 60),)})  # Sundays 01:00-04:00: two real hours that day
    start = local(AMSTERDAM, 2026, 3, 29, 0, 0)
    assert business_minutes_between(night, start, start + dt.timedelta(hours=6)) == 120
    assert local_instant(AMSTERDAM, dt.date(2026, 3, 29), 150) == dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC)


def test_dst_fall_back_in_new_york() -> None:
    night = Calendar(NEW_YORK, {6: ((0, 4 * 60),)})  # 1 November 2026: 02:00 EDT becomes 01:00 EST
    start = local(NEW_YORK, 2026, 11, 1, 0, 0)
    assert business_minutes_between(night, start, start + dt.timedelta(hours=8)) == 5 * 60  # the hour twice
    office = Calendar(NEW_YORK, OFFICE)
    # Friday 30 October 16:00 EDT + 2 hours: an hour that Friday, then Monday 2 November 09:00 EST + 1 hour.
    assert due(office, local(NEW_YORK, 2026, 10, 30, 16, 0), 120, NEW_YORK) == local(NEW_YORK, 2026, 11, 2, 10, 0)


def test_a_calendar_without_opening_hours_has_no_due_time() -> None:
    with pytest.raises(NoBusinessTime):
        add_business_minutes(Calendar(AMSTERDAM, {}), local(AMSTERDAM, 2026, 1, 1, 0, 0), 1)


# --- properties ----------------------------------------------------------------------------------------------

ranges_of_a_day = st.lists(st.integers(0, 24 * 4), min_size=2, max_size=6, unique=True).map(
    lambda marks: tuple(zip(*[iter(sorted(m * 15 for m in marks))] * 2, strict=False))
)
calendars = st.builds(
    Calendar,
    zone=st.sampled_from([AMSTERDAM, NEW_YORK, ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata")]),
    ranges=st.dictionaries(st.integers(0, 6), ranges_of_a_day, min_size=1).filter(
        lambda r: sum(end - begin for day in r.values() for begin, end in day) >= 60  # an hour a week, at least
    ),
    holidays=st.frozensets(st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)), max_size=20),
)
instants = st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2026, 12, 31), timezones=st.just(dt.UTC))
minutes = st.integers(0, 3 * 24 * 60)  # due within five years even in a calendar open an hour a week


@PROPERTY_SETTINGS
@given(calendar=st.one_of(st.none(), calendars), start=instants, a=minutes, b=minutes)
def test_more_minutes_or_a_later_start_never_give_an_earlier_due_time(
    calendar: Calendar | None, start: dt.datetime, a: int, b: int
) -> None:
    low, high = sorted((a, b))
    assert add_business_minutes(calendar, start, low) <= add_business_minutes(calendar, start, high)
    later = start + dt.timedelta(minutes=high - low)
    assert add_business_minutes(calendar, start, low) <= add_business_minutes(calendar, later, low)


@PROPERTY_SETTINGS
@given(calendar=st.one_of(st.none(), calendars), start=instants, a=minutes, b=minutes.map(lambda m: m + 1))
def test_adding_in_two_steps_is_adding_at_once_and_counting_gives_the_minutes_back(
    calendar: Calendar | None, start: dt.datetime, a: int, b: int
) -> None:
    """(Zero minutes more would differ at a range's end: a due time may fall on a closing instant, while zero
    minutes from it means the next opening.)"""
    once = add_business_minutes(calendar, start, a + b)
    assert add_business_minutes(calendar, add_business_minutes(calendar, start, a), b) == once
    assert business_minutes_between(calendar, start, once) == a + b


@PROPERTY_SETTINGS
@given(calendar=st.one_of(st.none(), calendars), start=instants, target=minutes, paused=minutes, worked=minutes)
def test_pausing_then_resuming_never_shortens_a_deadline(
    calendar: Calendar | None, start: dt.datetime, target: int, paused: int, worked: int
) -> None:
    """A clock paused after `worked` business minutes and resumed `paused` real minutes later owes what was left."""
    original = add_business_minutes(calendar, start, target)
    worked = min(worked, target)
    pause_at = add_business_minutes(calendar, start, worked)
    resume_at = pause_at + dt.timedelta(minutes=paused)
    resumed_due = add_business_minutes(calendar, resume_at, target - worked)
    assert resumed_due >= original
