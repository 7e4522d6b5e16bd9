"""Property-based tests: no input gives a 500, pagination returns every row exactly once in order,
and access follows the user-type and functionality rules."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from typing import Any

import asyncpg
import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evacase.auth import Scope, UserType, parse_functionality
from evacase.registry import load_services
from tests.helpers import Api, customer, token
from tests.strategies import json_values, request_bodies

REGISTRY = load_services()
OPERATIONS = REGISTRY.names()
_customer_ids = itertools.count(10_000)
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("EVACASE_HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def field_names(struct: type[msgspec.Struct]) -> list[str]:
    own = [f.encode_name for f in msgspec.structs.fields(struct)]
    return [*own, "InitialPageConfig", "Limit", "Filter", "PageToken"]


async def seed_case(db: asyncpg.Connection, customer_id: int) -> None:
    await db.execute("INSERT INTO users (id, user_type) VALUES ($1, 2) ON CONFLICT DO NOTHING", customer_id)
    case_id = await db.fetchval(
        "INSERT INTO cases (id, customer_id, topic_id, status_id, title) VALUES (1, $1, 1, 1, 'A case')"
        " ON CONFLICT DO NOTHING RETURNING id",
        customer_id,
    )
    if case_id:
        await db.execute(
            "INSERT INTO interactions (id, case_id, type, text, created_by) VALUES (1, 1, 0, 'hi', $1)", customer_id
        )


@PROPERTY_SETTINGS
@given(data=st.data())
async def test_random_bodies_never_cause_a_server_error(api: Api, db: asyncpg.Connection, data: st.DataObject) -> None:
    await seed_case(db, 1)
    name = data.draw(st.sampled_from(OPERATIONS), label="service")
    op = REGISTRY.get(name)
    assert op is not None
    body = data.draw(request_bodies(field_names(op.request_type)), label="body")
    if data.draw(st.booleans(), label="aim at real rows"):
        body.update({k: data.draw(st.sampled_from([1, "1", 2])) for k in ("ID", "CaseID", "InteractionID", "TopicID")})
    tok = data.draw(st.sampled_from([customer(1), customer(2), token(3, UserType.EMPLOYEE, ["CaseTopics"])]))
    r = await api.call(name, body, tok)
    assert r.status_code < 500, (name, body, r.text)
    if r.status_code != 200:
        error = r.json()["Error"]
        assert set(error) <= {"Code", "Type", "Message", "RequestID", "Data"}
        assert error["RequestID"] == r.headers["EVA-Request-ID"]


@PROPERTY_SETTINGS
@given(raw=st.one_of(st.binary(max_size=40), json_values.map(lambda v: msgspec.json.encode(v))))
async def test_random_raw_bodies_never_cause_a_server_error(api: Api, raw: bytes) -> None:
    r = await api.raw("CustomerCreateCase", raw, customer(1))
    assert r.status_code in (200, 400, 404), r.text


times = st.integers(min_value=0, max_value=5).map(
    lambda m: dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=m)
)


@PROPERTY_SETTINGS
@given(reporting_times=st.lists(times, max_size=30), limit=st.integers(min_value=1, max_value=7))
async def test_paging_through_cases_returns_every_case_exactly_once_in_order(
    api: Api, db: asyncpg.Connection, reporting_times: list[dt.datetime], limit: int
) -> None:
    who = next(_customer_ids)
    await db.execute("INSERT INTO users (id, user_type) VALUES ($1, 2)", who)
    rows = await db.fetch(
        "INSERT INTO cases (customer_id, topic_id, status_id, title, reporting_time)"
        " SELECT $1, 1, 1, 'Case', t FROM unnest($2::timestamptz[]) t RETURNING id, reporting_time",
        who,
        reporting_times,
    )
    expected = [r["id"] for r in sorted(rows, key=lambda r: (r["reporting_time"], r["id"]), reverse=True)]
    tok = customer(who)
    pages: list[list[int]] = []
    body: dict[str, Any] = {"InitialPageConfig": {"Limit": limit}}
    while True:
        page = await api.ok("CustomerListCases", body, tok)
        pages.append([c["ID"] for c in page["Results"]])
        assert len(pages[-1]) <= limit
        if "NextPageToken" not in page:
            break
        body = {"PageToken": page["NextPageToken"]}
    seen = [i for p in pages for i in p]
    assert seen == expected
    # Walking back from the last page visits the same pages in reverse.
    back = [pages[-1]]
    while "PreviousPageToken" in page:
        page = await api.ok("CustomerListCases", {"PageToken": page["PreviousPageToken"]}, tok)
        back.append([c["ID"] for c in page["Results"]])
    assert back[::-1] == pages


@PROPERTY_SETTINGS
@given(texts=st.lists(st.sampled_from(["a", "b", "c"]), max_size=25), limit=st.integers(min_value=1, max_value=6))
async def test_paging_through_interactions_returns_each_visible_one_once_newest_first(
    api: Api, db: asyncpg.Connection, texts: list[str], limit: int
) -> None:
    who = next(_customer_ids)
    await db.execute("INSERT INTO users (id, user_type) VALUES ($1, 2)", who)
    case_id = await db.fetchval(
        "INSERT INTO cases (customer_id, topic_id, status_id, title) VALUES ($1, 1, 1, 'Case') RETURNING id", who
    )
    types = {"a": 0, "b": 1, "c": 2}  # b is a private note: never listed
    await db.execute(
        "INSERT INTO interactions (case_id, type, text, created_by, creation_time)"
        " SELECT $1, t, 'x', $2, '2024-01-01'::timestamptz + (n % 3) * interval '1 second'"
        " FROM unnest($3::int[]) WITH ORDINALITY AS u (t, n)",
        case_id,
        who,
        [types[t] for t in texts],
    )
    rows = await db.fetch(
        "SELECT id FROM interactions WHERE case_id = $1 AND type <> 1 ORDER BY creation_time DESC, id DESC", case_id
    )
    tok = customer(who)
    seen: list[int] = []
    body: dict[str, Any] = {"CaseID": case_id, "InitialPageConfig": {"Limit": limit}}
    while True:
        page = await api.ok("CustomerListCaseInteractions", body, tok)
        seen += [i["ID"] for i in page["Results"]]
        if "NextPageToken" not in page:
            break
        body = {"CaseID": case_id, "PageToken": page["NextPageToken"]}
    assert seen == [r["id"] for r in rows]


FUNCTIONALITIES = [
    "CaseTopics",
    "CaseTopics:View",
    "CaseTopics:Edit",
    "CaseTopics:Manage",
    "CaseTopics:None",
    "CaseTopics:Settings",
    "Cases:View",
    "Cases",
    "PushCases",
]
USER_TYPES = [0, UserType.EMPLOYEE, UserType.CUSTOMER, UserType.SYSTEM, UserType.API, 4, 256, 3, 2048 | 2]


def may_list_topics(user_type: int, functionalities: list[str]) -> bool:
    """The rule, stated independently: customers always; employees/API users with a View-including scope."""
    if user_type & UserType.CUSTOMER:
        return True
    if not user_type & (UserType.EMPLOYEE | UserType.API):
        return False
    scopes = [parse_functionality(f)[1] for f in functionalities if f.split(":")[0] == "CaseTopics"]
    return any(s in (Scope.VIEW, Scope.MANAGE, Scope.ALL) for s in scopes)


@PROPERTY_SETTINGS
@given(
    user_type=st.sampled_from(USER_TYPES),
    functionalities=st.lists(st.sampled_from(FUNCTIONALITIES), max_size=3, unique=True),
)
async def test_list_case_topics_access_follows_user_type_and_functionality(
    api: Api, user_type: int, functionalities: list[str]
) -> None:
    r = await api.call("ListCaseTopics", {}, token(77, user_type, functionalities))
    if may_list_topics(user_type, functionalities):
        assert r.status_code == 200, r.text
    else:
        assert r.status_code == 403 and r.json()["Error"]["Type"] == "Forbidden", r.text


@PROPERTY_SETTINGS
@given(title=st.text(max_size=210))
async def test_titles_are_accepted_exactly_when_5_to_200_characters_and_not_blank(
    api: Api, db: asyncpg.Connection, title: str
) -> None:
    r = await api.call("CustomerCreateCase", {"Title": title, "Description": "d", "TopicID": 1}, customer(5))
    valid = 5 <= len(title) <= 200 and not title.isspace() and title.strip() != "" and "\u0000" not in title
    if valid:
        assert r.status_code == 200, r.text
        stored = await db.fetchval("SELECT title FROM cases WHERE id = $1", r.json()["ID"])
        assert stored == title
    else:
        assert r.status_code == 400, r.text


@PROPERTY_SETTINGS
@given(owners=st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=8))
async def test_customers_see_exactly_their_own_cases(api: Api, db: asyncpg.Connection, owners: list[int]) -> None:
    people = [next(_customer_ids) for _ in range(3)]
    await db.execute("INSERT INTO users (id, user_type) SELECT unnest($1::bigint[]), 2", people)
    rows = await db.fetch(
        "INSERT INTO cases (customer_id, topic_id, status_id, title) SELECT unnest($1::bigint[]), 1, 1, 'Case'"
        " RETURNING id, customer_id",
        [people[o] for o in owners],
    )
    for person in people:
        tok = customer(person)
        listed = await api.ok("CustomerListCases", {}, tok)
        assert sorted(c["ID"] for c in listed["Results"]) == sorted(r["id"] for r in rows if r["customer_id"] == person)
        for r in rows:
            status = (await api.call("CustomerGetCaseByID", {"ID": r["id"]}, tok)).status_code
            assert status == (200 if r["customer_id"] == person else 404)


@PROPERTY_SETTINGS
@given(count=st.integers(min_value=0, max_value=20), limit=st.integers(min_value=1, max_value=6))
async def test_paging_through_topics_returns_each_topic_once_highest_id_first(
    api: Api, db: asyncpg.Connection, count: int, limit: int
) -> None:
    # Examples share the database: names stay unique among root topics.
    await db.execute(
        "INSERT INTO case_topics (name)"
        " SELECT 'Topic ' || ((SELECT max(id) FROM case_topics) + g) FROM generate_series(1, $1) g",
        count,
    )
    expected = [r["id"] for r in await db.fetch("SELECT id FROM case_topics WHERE NOT is_deleted ORDER BY id DESC")]
    seen: list[int] = []
    body: dict[str, Any] = {"InitialPageConfig": {"Limit": limit}}
    while True:
        page = await api.ok("ListCaseTopics", body, customer(1))
        seen += [t["ID"] for t in page["Results"]]
        if "NextPageToken" not in page:
            break
        body = {"PageToken": page["NextPageToken"]}
    assert seen == expected


@PROPERTY_SETTINGS
@given(
    service=st.sampled_from(["ListCaseTopics", "CustomerListCases", "CustomerListCaseInteractions"]),
    page_token=st.one_of(
        st.text(max_size=40), st.builds(lambda a, b: f"{a}.{b}", st.text(max_size=30), st.text(max_size=30))
    ),
)
async def test_random_page_tokens_are_refused_with_400(
    api: Api, db: asyncpg.Connection, service: str, page_token: str
) -> None:
    await seed_case(db, 1)
    r = await api.call(service, {"CaseID": 1, "PageToken": page_token}, customer(1))
    if page_token:
        assert r.status_code == 400 and r.json()["Error"]["Code"] == "InvalidPageToken", r.text
    else:
        assert r.status_code == 200, r.text
