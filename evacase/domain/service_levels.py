"""Rules of service-level calendars and policies, callable without HTTP: what a calendar's BusinessHours and
TimeZone may be and their normalized form (`opening`, what the database's business-time functions read), and
the calendar as domain/business_time reads it."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from evacase.domain.business_time import WEEKDAYS, Calendar

HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
MAX_RANGES_A_DAY = 10
ORIGINS = ("Web", "Email", "Voice", "WhatsApp", "Webchat", "Api", "Push")


class CalendarRefused(ValueError):
    """A calendar evacase cannot use; the message says why."""


def zone_of(name: str) -> ZoneInfo:
    """The IANA time zone `name` (CalendarRefused when it is not one)."""
    if not re.fullmatch(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*", name) or len(name) > 64:
        raise CalendarRefused(f"TimeZone {name[:64]!r} is not an IANA time zone (e.g. Europe/Amsterdam)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarRefused(f"TimeZone {name!r} is not an IANA time zone (e.g. Europe/Amsterdam)") from None


def minute_of(text: str, field: str) -> int:
    match = HHMM.match(text)
    if match is None:
        raise CalendarRefused(f"{field} must be a time of day HH:MM (00:00-24:00), got {text[:16]!r}")
    return 24 * 60 if text == "24:00" else int(match.group(1)) * 60 + int(match.group(2))


def opening_of(business_hours: Mapping[str, Sequence[Mapping[str, str]]]) -> dict[str, list[list[int]]]:
    """BusinessHours ({"Monday": [{"From": "09:00", "To": "17:00"}], ...}) as ISO weekday -> sorted minute
    ranges; refused: unknown days, malformed or empty ranges, overlaps, no opening hours at all."""
    opening: dict[str, list[list[int]]] = {}
    for day, ranges in business_hours.items():
        if day not in WEEKDAYS:
            raise CalendarRefused(f"BusinessHours: {day[:32]!r} is not a weekday (Monday .. Sunday)")
        if len(ranges) > MAX_RANGES_A_DAY:
            raise CalendarRefused(f"BusinessHours: at most {MAX_RANGES_A_DAY} ranges a day")
        minutes = sorted(
            (minute_of(r["From"], f"BusinessHours.{day}.From"), minute_of(r["To"], f"BusinessHours.{day}.To"))
            for r in ranges
        )
        for begin, end in minutes:
            if end <= begin:
                raise CalendarRefused(f"BusinessHours: a range of {day} must end after it begins")
        for (_, end), (begin, _) in itertools.pairwise(minutes):
            if begin < end:
                raise CalendarRefused(f"BusinessHours: the ranges of {day} overlap")
        if minutes:
            opening[str(WEEKDAYS.index(day) + 1)] = [list(r) for r in minutes]
    if not opening:
        raise CalendarRefused("BusinessHours: the calendar needs opening hours on at least one day")
    return opening


def calendar_of(row: Mapping[str, Any]) -> Calendar:
    """A stored calendar (time_zone, opening, holidays) as domain/business_time reads it."""
    return Calendar(
        zone=ZoneInfo(row["time_zone"]),
        ranges={int(day) - 1: tuple((b, e) for b, e in ranges) for day, ranges in row["opening"].items()},
        holidays=frozenset(row["holidays"] or ()),
    )


def business_hours_of(opening: Mapping[str, Sequence[Sequence[int]]]) -> dict[str, list[dict[str, str]]]:
    """The wire form of a normalized `opening`, every weekday named (an empty list: closed)."""

    def hhmm(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"

    return {
        name: [{"From": hhmm(b), "To": hhmm(e)} for b, e in opening.get(str(n + 1), [])]
        for n, name in enumerate(WEEKDAYS)
    }


def holidays_of(dates: Sequence[dt.date]) -> list[dt.date]:
    return sorted(set(dates))
