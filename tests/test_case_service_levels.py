"""Service levels on cases, end to end: the policy that applies, due times in business hours (the worked example
of the README), breaches flagged in the change's own transaction or by the scheduler (once, with a controllable
clock), first and next responses, paused statuses, closing, and recomputing after a policy change."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import asyncpg

from evacase.auth import UserType
from evacase.jobs.service_levels import _check_due, _rebuild
from tests.helpers import Api, customer, employee, token

ADMIN = employee(20, ["ServiceLevelPolicies:Manage", "Cases:Manage", "CaseStatuses:Manage", "CaseTopics:Manage"])
AGENT = employee(21, ["Cases:Manage"])
CUSTOMER = customer(22, "Cathy", "Client")
INTEGRATOR = token(23, UserType.API, ["PushCases:None"])
OFFICE = {day: [{"From": "09:00", "To": "17:00"}] for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")}


async def policy(api: Api, **fields: Any) -> int:
    policy_id: int = (await api.ok("CreateServiceLevelPolicy", {"Name": "Standard", **fields}, ADMIN))["ID"]
    return policy_id


async def service_level(api: Api, case_id: int) -> dict[str, Any]:
    view = await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    level: dict[str, Any] = view.get("ServiceLevel") or {}
    return {"DueDate": view.get("DueDate"), **level}


async def customer_case(api: Api) -> int:
    body = {"Title": "My parcel is late", "Description": "Two weeks.", "TopicID": 2}
    case_id: int = (await api.ok("CustomerCreateCase", body, CUSTOMER))["ID"]
    return case_id


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_the_worked_example_friday_afternoon_is_due_monday_and_breached_at_once(
    api: Api, db: asyncpg.Connection
) -> None:
    calendar = {"Name": "Office", "TimeZone": "Europe/Amsterdam", "BusinessHours": OFFICE}
    calendar_id = (await api.ok("CreateServiceLevelCalendar", calendar, ADMIN))["ID"]
    policy_id = await policy(api, CalendarID=calendar_id, FirstResponseMinutes=60, ResolutionMinutes=480)
    push = {
        "BackendSystemID": "CRM",
        "BackendID": "C-1",
        "CaseTopic": {"BackendID": "T-RET", "Name": "Returns"},
        "Title": "Parcel never arrived",
        "Description": "Reported on a Friday afternoon.",
        "Status": "New",
        "ReportingTime": "2026-11-27T15:30:00Z",  # Friday 16:30 in Amsterdam
    }
    case_id = (await api.ok("PushCase", push, INTEGRATOR))["ID"]
    level = await service_level(api, case_id)
    flagged = level["FirstResponseBreachedTime"]
    assert level == {
        "DueDate": "2026-11-30T15:30:00.000Z",  # the resolution due time stands for it
        "PolicyID": policy_id,
        "PolicyName": "Standard",
        "FirstResponseDueTime": "2026-11-30T08:30:00.000Z",  # Monday 09:30 in Amsterdam
        "ResolutionDueTime": "2026-11-30T15:30:00.000Z",  # 30 minutes on Friday, 7.5 hours on Monday
        "IsPaused": False,
        "IsAtRisk": False,
        "IsFirstResponseBreached": True,  # both already past when the case arrived: flagged in that transaction
        "FirstResponseBreachedTime": flagged,
        "IsNextResponseBreached": False,
        "IsResolutionBreached": True,
        "ResolutionBreachedTime": flagged,
    }
    created = await db.fetchval("SELECT creation_time FROM cases WHERE id = $1", case_id)
    assert at(flagged) == created


async def test_the_first_public_staff_answer_is_the_first_response_and_customer_messages_restart_the_clock(
    api: Api, db: asyncpg.Connection
) -> None:
    await policy(api, FirstResponseMinutes=600, NextResponseMinutes=120, ResolutionMinutes=6000)
    case_id = await customer_case(api)
    reported = await db.fetchval("SELECT reporting_time FROM cases WHERE id = $1", case_id)
    level = await service_level(api, case_id)
    assert at(level["FirstResponseDueTime"]) == reported + dt.timedelta(minutes=600)
    assert "FirstResponseTime" not in level and not level["IsFirstResponseBreached"]

    await api.ok("CreateCaseInteraction", {"CaseID": case_id, "InteractionType": 1, "Text": "A note"}, AGENT)
    await api.ok("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": "Any news?"}, CUSTOMER)
    level = await service_level(api, case_id)
    assert "FirstResponseTime" not in level and "NextResponseDueTime" not in level  # neither a note nor the customer

    answer = await api.ok(
        "CreateCaseInteraction", {"CaseID": case_id, "InteractionType": 0, "Text": "On its way"}, AGENT
    )
    answered = await db.fetchval("SELECT creation_time FROM interactions WHERE id = $1", answer["ID"])
    level = await service_level(api, case_id)
    assert at(level["FirstResponseTime"]) == answered and not level["IsFirstResponseBreached"]

    message = await api.ok("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": "Still nothing"}, CUSTOMER)
    asked = await db.fetchval("SELECT creation_time FROM interactions WHERE id = $1", message["ID"])
    level = await service_level(api, case_id)
    assert at(level["NextResponseDueTime"]) == asked + dt.timedelta(minutes=120)
    await api.ok("CreateCaseInteraction", {"CaseID": case_id, "InteractionType": 3, "Text": "Mailed you"}, AGENT)
    level = await service_level(api, case_id)
    assert "NextResponseDueTime" not in level and at(level["FirstResponseTime"]) == answered


async def test_a_pausing_status_stops_the_resolution_clock_and_closing_stops_every_clock(
    api: Api, db: asyncpg.Connection
) -> None:
    await policy(api, FirstResponseMinutes=600, ResolutionMinutes=6000)
    waiting = (await api.ok("CreateCaseStatus", {"Name": "WaitingForCustomer", "PausesServiceLevel": True}, ADMIN))[
        "ID"
    ]
    case_id = await customer_case(api)
    before = at((await service_level(api, case_id))["ResolutionDueTime"])
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": waiting}, AGENT)
    level = await service_level(api, case_id)
    assert level["IsPaused"] and "ResolutionDueTime" not in level
    await asyncio.sleep(0.05)
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 2}, AGENT)
    level = await service_level(api, case_id)
    after = at(level["ResolutionDueTime"])
    assert not level["IsPaused"] and after >= before + dt.timedelta(milliseconds=40)  # the pause is owed back
    await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 3}, AGENT)
    row = await db.fetchrow(
        "SELECT next_check_at, resolution_breached_at FROM case_service_levels WHERE case_id = $1", case_id
    )
    assert tuple(row) == (None, None)  # closed in time: nothing to look at, nothing breached


async def test_the_first_matching_policy_applies_and_follows_the_case(api: Api) -> None:
    late = (await api.ok("CreateCaseTopic", {"Name": "Late delivery", "ParentID": 2}, ADMIN))["ID"]
    urgent = await policy(api, Name="Urgent", Position=1, Conditions={"Priorities": [9]}, ResolutionMinutes=60)
    shipping = await policy(api, Name="Shipping", Position=2, Conditions={"TopicIDs": [2]}, ResolutionMinutes=600)
    fallback = await policy(api, Name="Everything else", Position=3, ResolutionMinutes=6000)
    body = {"Title": "Where is it?", "Description": "x", "TopicID": late, "Priority": 9}
    case_id = (await api.ok("CreateCase", body, AGENT))["ID"]
    assert (await service_level(api, case_id))["PolicyID"] == urgent
    await api.ok("UpdateCaseState", {"ID": case_id, "Priority": 0}, AGENT)
    assert (await service_level(api, case_id))["PolicyID"] == shipping  # a sub-topic counts as its parent
    await api.ok("UpdateCase", {"ID": case_id, "TopicID": 1}, AGENT)
    assert (await service_level(api, case_id))["PolicyName"] == "Everything else"
    assert fallback


async def test_the_scheduler_warns_then_flags_a_breach_once(api: Api, db: asyncpg.Connection, db_dsn: str) -> None:
    await policy(api, FirstResponseMinutes=60, WarningPercent=50)
    case_id = await customer_case(api)
    reported = await db.fetchval("SELECT reporting_time FROM cases WHERE id = $1", case_id)

    async def run_scheduler(minutes_later: int, conn: asyncpg.Connection) -> int:
        await conn.execute(f"SET evacase.clock = '{(reported + dt.timedelta(minutes=minutes_later)).isoformat()}'")
        async with conn.transaction():
            return await _check_due(conn)

    assert await run_scheduler(20, db) == 0  # nothing due yet
    assert await run_scheduler(40, db) == 1  # past 50%: at risk
    level = await service_level(api, case_id)
    assert level["IsAtRisk"] and not level["IsFirstResponseBreached"]
    others = [await asyncpg.connect(db_dsn) for _ in range(2)]
    try:
        done = await asyncio.gather(*(run_scheduler(61, conn) for conn in others))
        assert sorted(done) == [0, 1]  # one runner took the case, the other skipped it
        breached = await db.fetchval(
            "SELECT first_response_breached_at FROM case_service_levels WHERE case_id = $1", case_id
        )
        assert breached == reported + dt.timedelta(minutes=61)
        assert await run_scheduler(90, others[0]) == 0  # never flagged again
    finally:
        for conn in others:
            await conn.close()
    level = await service_level(api, case_id)
    assert level["IsFirstResponseBreached"] and not level["IsAtRisk"]


async def test_open_cases_are_recomputed_after_a_policy_change(api: Api, db: asyncpg.Connection) -> None:
    early = await customer_case(api)
    closed = await customer_case(api)
    await api.ok("UpdateCaseState", {"ID": closed, "StatusID": 3}, AGENT)
    assert await db.fetchval("SELECT count(*) FROM case_service_levels") == 0  # no policy, nothing kept
    await policy(api, ResolutionMinutes=600)  # applies to new and changed cases at once...
    async with db.transaction():
        assert await _rebuild(db) == 1  # ...and to the open case already there, in the background
    assert (await service_level(api, early))["PolicyName"] == "Standard"
    assert (await service_level(api, closed)).get("PolicyName") is None
    async with db.transaction():
        assert await _rebuild(db) == 0  # done until the next change


async def test_a_due_date_of_its_own_is_set_changed_and_removed(api: Api, db: asyncpg.Connection) -> None:
    body = {"Title": "Replace the part", "Description": "x", "TopicID": 1, "DueDate": "2030-01-31T12:00:00.123456Z"}
    case_id = (await api.ok("CreateCase", body, AGENT))["ID"]
    assert (await service_level(api, case_id))["DueDate"] == "2030-01-31T12:00:00.123Z"
    await api.ok("UpdateCase", {"ID": case_id, "DueDate": "2030-02-01T09:00:00+01:00"}, AGENT)
    await api.ok("UpdateCase", {"ID": case_id, "DueDate": "2030-02-01T08:00:00Z"}, AGENT)  # the same: no line
    assert (await service_level(api, case_id))["DueDate"] == "2030-02-01T08:00:00.000Z"
    await api.ok("UpdateCase", {"ID": case_id, "DueDate": None}, AGENT)
    assert (await service_level(api, case_id))["DueDate"] is None
    lines = await db.fetch("SELECT text FROM interactions WHERE case_id = $1 AND type = 2 ORDER BY id", case_id)
    assert [r["text"] for r in lines][-2:] == [
        "Case due date set to `2030-02-01T08:00:00.000Z`",
        "Case due date removed",
    ]


async def test_the_queue_lists_what_is_due_next_first_with_its_filters(api: Api, db: asyncpg.Connection) -> None:
    await policy(api, Name="Urgent", Position=1, Conditions={"Priorities": [9]}, ResolutionMinutes=60)
    await policy(
        api,
        Name="Standard",
        Position=2,
        Conditions={"Priorities": [0]},
        ResolutionMinutes=6000,
        FirstResponseMinutes=3000,
    )
    standard = (await api.ok("CreateCase", {"Title": "Standard", "Description": "x", "TopicID": 1}, AGENT))["ID"]
    urgent = (await api.ok("CreateCase", {"Title": "Urgent", "Description": "x", "TopicID": 1, "Priority": 9}, AGENT))[
        "ID"
    ]
    own = {"Title": "Own date", "Description": "x", "TopicID": 1, "Priority": 1, "DueDate": "2030-01-01T00:00:00Z"}
    dated = (await api.ok("CreateCase", own, AGENT))["ID"]
    push = {
        "BackendSystemID": "CRM",
        "BackendID": "C-9",
        "CaseTopic": {"BackendID": "T-RET", "Name": "Returns"},
        "Title": "Old one",
        "Description": "Reported long ago.",
        "Status": "New",
        "ReportingTime": "2026-01-05T10:00:00Z",
    }
    overdue = (await api.ok("PushCase", push, INTEGRATOR))["ID"]
    closed = (await api.ok("CreateCase", {"Title": "Done", "Description": "x", "TopicID": 1}, AGENT))["ID"]
    await api.ok("UpdateCaseState", {"ID": closed, "StatusID": 3}, AGENT)

    async def queue(**filters: Any) -> list[int]:
        config: dict[str, Any] = {"SortColumn": "DueDate"}
        if filters:
            config["Filter"] = filters
        page = await api.ok("ListCases", {"InitialPageConfig": config}, AGENT)
        return [c["ID"] for c in page["Results"]]

    assert await queue() == [overdue, urgent, standard, dated]  # the closed case is in nobody's queue
    assert await queue(IsOverdue=True) == [overdue]
    assert await queue(IsBreached=True) == [overdue]
    assert await queue(DueBefore="2029-01-01T00:00:00Z") == [overdue, urgent, standard]
    assert await queue(Priority=9) == [urgent]
    first = await api.ok("ListCases", {"InitialPageConfig": {"SortColumn": "DueDate", "Limit": 2}}, AGENT)
    second = await api.ok("ListCases", {"PageToken": first["NextPageToken"]}, AGENT)
    assert [c["ID"] for c in first["Results"] + second["Results"]] == [overdue, urgent, standard, dated]
    listed = {c["ID"]: c for c in first["Results"]}
    assert listed[urgent]["ServiceLevel"]["PolicyName"] == "Urgent" and listed[urgent]["DueDate"]
    # At risk: the standard case once its first response passed 80% (the scheduler's clock moved on).
    reported = await db.fetchval("SELECT reporting_time FROM cases WHERE id = $1", standard)
    await db.execute(f"SET evacase.clock = '{(reported + dt.timedelta(minutes=2500)).isoformat()}'")
    async with db.transaction():
        await _check_due(db)
    assert await queue(IsAtRisk=True) == [standard]


async def test_a_status_closes_its_cases_automatically_once_and_a_customer_reply_reopens(
    api: Api, db: asyncpg.Connection, db_dsn: str
) -> None:
    resolved = (await api.ok("CreateCaseStatus", {"Name": "Resolved", "AutoCloseAfterHours": 72}, ADMIN))["ID"]
    assert (await api.ok("GetCaseStatus", {"ID": resolved}, ADMIN))["AutoCloseAfterHours"] == 72
    quiet, chatty = await customer_case(api), await customer_case(api)
    for case_id in (quiet, chatty):
        await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": resolved}, AGENT)
    entered = await db.fetchval("SELECT status_since FROM cases WHERE id = $1", quiet)

    # The customer answers on one of them: it moves back to InProgress (the default), in the message's transaction.
    await api.ok("CustomerCreateCaseInteraction", {"CaseID": chatty, "Text": "It is not solved!"}, CUSTOMER)
    view = await api.ok("GetCaseByID", {"ID": chatty}, AGENT)
    assert view["StatusName"] == "InProgress"
    ledger = [
        r["text"]
        for r in await db.fetch("SELECT text FROM interactions WHERE case_id = $1 AND type = 2 ORDER BY id", chatty)
    ]
    assert ledger[-1] == "Case status set to `InProgress` by the customer's reply (was `Resolved`)"

    async def scheduler(hours_later: float, conn: asyncpg.Connection) -> int:
        from evacase.jobs.service_levels import _auto_close

        await conn.execute(f"SET evacase.clock = '{(entered + dt.timedelta(hours=hours_later)).isoformat()}'")
        async with conn.transaction():
            return await _auto_close(conn)

    assert await scheduler(71, db) == 0
    runners = [await asyncpg.connect(db_dsn) for _ in range(2)]
    try:
        assert sorted(await asyncio.gather(*(scheduler(73, conn) for conn in runners))) == [0, 1]
        assert await scheduler(100, runners[0]) == 0  # closed once
    finally:
        for conn in runners:
            await conn.close()
    view = await api.ok("GetCaseByID", {"ID": quiet}, AGENT)
    assert view["StatusName"] == "Completed" and view["ClosingTime"]
    ledger = [
        r["text"]
        for r in await db.fetch("SELECT text FROM interactions WHERE case_id = $1 AND type = 2 ORDER BY id", quiet)
    ]
    assert ledger[-1] == "Case status set to `Completed` automatically after 72 hours in `Resolved`"
    events = await db.fetch("SELECT event_type FROM case_events WHERE case_id = $1 ORDER BY id", quiet)
    assert events[-1]["event_type"] == "updated"
    assert (await api.ok("GetCaseByID", {"ID": chatty}, AGENT))["StatusName"] == "InProgress"  # not closed


async def test_a_status_names_where_it_closes_and_reopens(api: Api, db: asyncpg.Connection, db_dsn: str) -> None:
    review = (await api.ok("CreateCaseStatus", {"Name": "CustomerReview"}, ADMIN))["ID"]
    body = {"Name": "Proposed", "AutoCloseAfterHours": 1.5, "AutoCloseStatusID": 4, "ReopenStatusID": review}
    proposed = (await api.ok("CreateCaseStatus", body, ADMIN))["ID"]
    err = await api.error("UpdateCaseStatus", {"ID": proposed, "ReopenStatusID": 999}, ADMIN, 404)
    assert err["Code"] == "CaseStatus:NotFound"
    await api.error("DeleteCaseStatus", {"ID": review}, ADMIN, 409)  # another status moves cases into it
    reopened, closed = await customer_case(api), await customer_case(api)
    for case_id in (reopened, closed):
        await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": proposed}, AGENT)
    await api.ok("CustomerCreateCaseInteraction", {"CaseID": reopened, "Text": "Let me check"}, CUSTOMER)
    assert (await api.ok("GetCaseByID", {"ID": reopened}, AGENT))["StatusID"] == review
    entered = await db.fetchval("SELECT status_since FROM cases WHERE id = $1", closed)
    await db.execute(f"SET evacase.clock = '{(entered + dt.timedelta(hours=1.6)).isoformat()}'")
    from evacase.jobs.service_levels import _auto_close

    async with db.transaction():
        assert await _auto_close(db) == 1
    assert (await api.ok("GetCaseByID", {"ID": closed}, AGENT))["StatusName"] == "Cancelled"
    line = await db.fetchval(
        "SELECT text FROM interactions WHERE case_id = $1 AND type = 2 ORDER BY id DESC LIMIT 1", closed
    )
    assert line == "Case status set to `Cancelled` automatically after 1.5 hours in `Proposed`"


async def test_a_scheduler_killed_mid_batch_loses_nothing(api: Api, db: asyncpg.Connection, db_dsn: str) -> None:
    await policy(api, FirstResponseMinutes=60)
    case_id = await customer_case(api)
    reported = await db.fetchval("SELECT reporting_time FROM cases WHERE id = $1", case_id)
    clock = f"SET evacase.clock = '{(reported + dt.timedelta(minutes=90)).isoformat()}'"
    doomed = await asyncpg.connect(db_dsn)
    await doomed.execute(clock)
    tx = doomed.transaction()
    await tx.start()
    assert await _check_due(doomed) == 1  # flagged inside its transaction...
    doomed.terminate()  # ...and the process dies before committing
    assert (
        await db.fetchval("SELECT first_response_breached_at FROM case_service_levels WHERE case_id = $1", case_id)
        is None
    )
    await db.execute(clock)
    for _ in range(50):  # the killed backend's lock goes with its rollback (SKIP LOCKED passes it until then)
        async with db.transaction():
            done = await _check_due(db)
        if done:
            break
        await asyncio.sleep(0.1)
    assert done == 1  # the next run does it, once
    flagged = await db.fetchval(
        "SELECT first_response_breached_at FROM case_service_levels WHERE case_id = $1", case_id
    )
    assert flagged == reported + dt.timedelta(minutes=90)
