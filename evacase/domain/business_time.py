"""Business time: when a target of N business minutes falls due, in a calendar of weekly opening hours in one
time zone, with holidays; no calendar means around the clock. Pure functions, no database.

A business minute is a real minute inside an opening range. Ranges are local wall-clock times: on the day
clocks go forward, the local hour that does not exist holds no business time; on the day they go back, a range
over the repeated hour holds it twice (so a 09:00-17:00 day is 8 real hours unless a change falls inside it). A
nonexistent local time counts as the end of its gap, an ambiguous one as its first occurrence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
END_OF_DAY = 24 * 60
MAX_DAYS = 5 * 366  # how far a due time is looked for (a calendar with opening hours finds one long before)


class NoBusinessTime(ValueError):
    """The calendar opens nowhere within the search horizon."""


@dataclass(frozen=True)
class Calendar:
    """Opening ranges per weekday (0 Monday .. 6 Sunday) in minutes after local midnight, [start, end), sorted
    and apart; holidays are local dates without opening hours."""

    zone: ZoneInfo
    ranges: Mapping[int, Sequence[tuple[int, int]]]
    holidays: frozenset[dt.date] = frozenset()


def local_instant(zone: ZoneInfo, day: dt.date, minute: int) -> dt.datetime:
    """The first UTC instant whose local wall-clock time is at or after `minute` past midnight of `day` (1440: the
    next midnight): the wall time itself when it exists (its first occurrence when clocks went back), the end of
    the gap when clocks jumped over it. Monotonic in `minute`."""
    wall = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    step = dt.timedelta(minutes=1)  # in a gap: back to its end (at most the gap's length, an hour or so)
    while (instant - step).astimezone(zone).replace(tzinfo=None) >= wall:
        instant -= step
    return instant


def opening_intervals(calendar: Calendar, start: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The calendar's opening intervals (UTC) that end after `start`, in order, from the local day of `start`."""
    first_day = start.astimezone(calendar.zone).date() - dt.timedelta(days=1)
    for offset in range(MAX_DAYS):
        day = first_day + dt.timedelta(days=offset)
        if day in calendar.holidays:
            continue
        for begin, end in calendar.ranges.get(day.weekday(), ()):
            opens, closes = local_instant(calendar.zone, day, begin), local_instant(calendar.zone, day, end)
            if closes > start and closes > opens:
                yield max(opens, start), closes


def add_business_minutes(calendar: Calendar | None, start: dt.datetime, minutes: float) -> dt.datetime:
    """The instant `minutes` business minutes after `start` (aware; the answer is in UTC). Zero minutes: the
    first business instant at or after `start`."""
    start = start.astimezone(dt.UTC)
    if calendar is None:
        return start + dt.timedelta(minutes=minutes)
    remaining = dt.timedelta(minutes=minutes)
    for opens, closes in opening_intervals(calendar, start):
        if closes - opens >= remaining and (remaining > dt.timedelta(0) or closes > opens):
            return opens + remaining
        remaining -= closes - opens
    raise NoBusinessTime("the calendar has no opening hours within five years")


def business_minutes_between(calendar: Calendar | None, start: dt.datetime, end: dt.datetime) -> float:
    """Business minutes from `start` to `end` (0 when `end` is not later)."""
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    if end <= start:
        return 0.0
    if calendar is None:
        return (end - start) / dt.timedelta(minutes=1)
    total = dt.timedelta(0)
    for opens, closes in opening_intervals(calendar, start):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total / dt.timedelta(minutes=1)
