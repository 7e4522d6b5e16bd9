"""Property-based tests: no input gives a 500, pagination returns every row exactly once in order,
and access follows the user-type and functionality rules."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import asyncpg
import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from evacase.auth import Scope, UserType, parse_functionality
from evacase.services import build_registry
from tests.helpers import FUNCTIONALITY_NAMES, Api, customer, token
from tests.strategies import PROPERTY_SETTINGS, json_values, request_bodies

REGISTRY = build_registry()
# An employee holding every functionality, so random bodies reach the employee services' handlers.
STAFF = token(
    4,
    UserType.EMPLOYEE,
    ["Cases", "CaseTopics", "CaseStatuses", "OrganizationUnits", "PushCases", "CustomFields", "CustomFieldTypes"],
)
OPERATIONS = REGISTRY.names()
_customer_ids = itertools.count(10_000)


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
        keys = ("ID", "CaseID", "InteractionID", "TopicID", "StatusID", "AssigneeID", "CustomerID")
        body.update({k: data.draw(st.sampled_from([1, "1", 2, 3])) for k in keys})
    tok = data.draw(st.sampled_from([customer(1), customer(2), token(3, UserType.EMPLOYEE, ["CaseTopics"]), STAFF]))
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


async def walk_pages(
    api: Api, service: str, first: dict[str, Any], tok: str, carry: dict[str, Any] | None = None
) -> tuple[list[list[int]], list[list[int]]]:
    """The IDs of every page from `first` on by NextPageToken, and the pages met walking back from the last one
    by PreviousPageToken (in forward order). `carry`: fields every request repeats (a list's CaseID)."""
    pages: list[list[int]] = []
    body = first
    while True:
        page = await api.ok(service, body, tok)
        pages.append([c["ID"] for c in page["Results"]])
        if "NextPageToken" not in page:
            break
        body = {**(carry or {}), "PageToken": page["NextPageToken"]}
    back = [pages[-1]]
    while "PreviousPageToken" in page:
        page = await api.ok(service, {**(carry or {}), "PageToken": page["PreviousPageToken"]}, tok)
        back.append([c["ID"] for c in page["Results"]])
    return pages, back[::-1]


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
    pages, back = await walk_pages(api, "CustomerListCases", {"InitialPageConfig": {"Limit": limit}}, customer(who))
    assert all(len(p) <= limit for p in pages)
    assert [i for p in pages for i in p] == expected
    assert back == pages  # walking back from the last page visits the same pages


@PROPERTY_SETTINGS
@given(
    texts=st.lists(st.sampled_from(["a", "b", "c"]), max_size=25),
    limit=st.integers(min_value=1, max_value=6),
    filtered=st.booleans(),
)
async def test_paging_through_interactions_returns_each_visible_one_once_newest_first(
    api: Api, db: asyncpg.Connection, texts: list[str], limit: int, filtered: bool
) -> None:
    """Both ways, with and without a (matching) text filter; creation times tie on the second and differ in
    milliseconds, as the page keys read them back from EVA's text."""
    who = next(_customer_ids)
    await db.execute("INSERT INTO users (id, user_type) VALUES ($1, 2)", who)
    case_id = await db.fetchval(
        "INSERT INTO cases (customer_id, topic_id, status_id, title) VALUES ($1, 1, 1, 'Case') RETURNING id", who
    )
    types = {"a": 0, "b": 1, "c": 2}  # b is a private note: never listed
    await db.execute(
        "INSERT INTO interactions (case_id, type, text, created_by, creation_time)"
        " SELECT $1, t, 'x', $2, '2024-01-01'::timestamptz + (n % 3) * interval '1 second'"
        "   + (n % 4) * interval '7 milliseconds'"
        " FROM unnest($3::int[]) WITH ORDINALITY AS u (t, n)",
        case_id,
        who,
        [types[t] for t in texts],
    )
    rows = await db.fetch(
        "SELECT id FROM interactions WHERE case_id = $1 AND type <> 1 ORDER BY creation_time DESC, id DESC", case_id
    )
    config: dict[str, Any] = {"Limit": limit} | ({"Filter": {"Text": "x"}} if filtered else {})
    first = {"CaseID": case_id, "InitialPageConfig": config}
    pages, back = await walk_pages(api, "CustomerListCaseInteractions", first, customer(who), {"CaseID": case_id})
    assert [i for p in pages for i in p] == [r["id"] for r in rows]
    assert back == pages


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


@settings(PROPERTY_SETTINGS, max_examples=max(5, PROPERTY_SETTINGS.max_examples // 2))  # up to 20 topics each
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


@PROPERTY_SETTINGS
@given(steps=st.lists(st.tuples(st.sampled_from([1, 2, 3, 4, 5, 6]), st.booleans()), min_size=1, max_size=8))
async def test_closing_time_follows_the_status_through_any_sequence_of_state_changes(
    api: Api, db: asyncpg.Connection, steps: list[tuple[int, bool]]
) -> None:
    """Random UpdateCaseState sequences: ClosingTime is set exactly while the status is closed; New is never
    returned to; a refused step changes nothing."""
    await db.execute(
        "INSERT INTO case_statuses (id, name, is_closed) VALUES (5, 'Waiting', false), (6, 'Rejected', true)"
        " ON CONFLICT DO NOTHING"
    )
    await api.ok("Ping", {}, STAFF)
    case_id = (await api.ok("CreateCase", {"Title": "T", "Description": "D", "TopicID": 1}, STAFF))["ID"]
    closed = {3, 4, 6}
    current = 1
    for status_id, assign in steps:
        body: dict[str, Any] = {"ID": case_id, "StatusID": status_id}
        if assign:
            body["AssigneeID"] = 4
        r = await api.call("UpdateCaseState", body, STAFF)
        if status_id == 1 and current != 1:
            assert r.status_code == 409 and r.json()["Error"]["Code"] == "Case:CannotRevertCaseStatusToNewStatus"
        else:
            assert r.status_code == 200, r.text
            current = status_id
        row = await db.fetchrow("SELECT status_id, closing_time FROM cases WHERE id = $1", case_id)
        assert row["status_id"] == current
        assert (row["closing_time"] is not None) == (current in closed)


# The employee services' rule, as EVA's contract states it (auth_description): Employee or Api users holding the
# functionality with a scope that includes the one named.
STAFF_RULES: dict[str, tuple[str, Scope] | None] = {
    "DeleteBlob": None,  # EVA: any Employee or Api user, no functionality
    "PrintCaseReceipt": ("Cases", Scope.VIEW),
    "GetCaseReceipt": ("Cases", Scope.VIEW),
    "CreateCase": ("Cases", Scope.CREATE),
    "GetCaseByID": ("Cases", Scope.VIEW),
    "ListCases": ("Cases", Scope.VIEW),
    "UpdateCase": ("Cases", Scope.EDIT),
    "UpdateCaseState": ("Cases", Scope.EDIT),
    "UpdateCaseSummary": ("Cases", Scope.EDIT),
    "ArchiveCase": ("Cases", Scope.DELETE),
    "SetCaseRelatedData": ("Cases", Scope.EDIT),
    "RemoveCaseRelatedItems": ("Cases", Scope.EDIT),
    "CreateCaseInteraction": ("Cases", Scope.EDIT),
    "GetCaseInteraction": ("Cases", Scope.VIEW),
    "UpdateCaseInteraction": ("Cases", Scope.EDIT),
    "DeleteCaseInteraction": ("Cases", Scope.EDIT),
    "ListCaseInteractions": ("Cases", Scope.VIEW),
    "AttachBlobToCase": ("Cases", Scope.EDIT),
    "DeleteCaseBlob": ("Cases", Scope.EDIT),
    "ListBlobsForCase": ("Cases", Scope.VIEW),
    "AddBlobToCaseInteraction": ("Cases", Scope.EDIT),
    "RemoveCaseInteractionBlob": ("Cases", Scope.EDIT),
    "CreateCaseTopic": ("CaseTopics", Scope.CREATE),
    "GetCaseTopic": ("CaseTopics", Scope.VIEW),
    "UpdateCaseTopic": ("CaseTopics", Scope.EDIT),
    "DeleteCaseTopic": ("CaseTopics", Scope.DELETE),
    "CreateCaseStatus": ("CaseStatuses", Scope.CREATE),
    "GetCaseStatus": ("CaseStatuses", Scope.VIEW),
    "UpdateCaseStatus": ("CaseStatuses", Scope.EDIT),
    "DeleteCaseStatus": ("CaseStatuses", Scope.DELETE),
    "ListCaseStatuses": ("CaseStatuses", Scope.VIEW),
    "SetOrganizationUnit": ("OrganizationUnits", Scope.EDIT),
    "ListOrganizationUnits": ("OrganizationUnits", Scope.VIEW),
    "GetPushCaseSettings": ("PushCases", Scope.SETTINGS),
    "SetPushCaseSettings": ("PushCases", Scope.SETTINGS),
    "PushCase": ("PushCases", Scope.NONE),  # any scope will do
    "CreateCustomField": ("CustomFields", Scope.CREATE),
    "GetCustomFieldByID": ("CustomFields", Scope.VIEW),
    "UpdateCustomField": ("CustomFields", Scope.EDIT),
    "DeleteCustomField": ("CustomFields", Scope.DELETE),
    "SetCustomFieldOptions": ("CustomFields", Scope.EDIT),
    "UnsetCustomFieldOptions": ("CustomFields", Scope.EDIT),
    "ListCustomFieldOptions": ("CustomFields", Scope.VIEW),
    "GetCustomFieldTypes": ("CustomFieldTypes", Scope.VIEW),
    "CreateEndpointConfiguration": ("EndpointConfigurations", Scope.CREATE),
    "UpdateEndpointConfiguration": ("EndpointConfigurations", Scope.EDIT),
    "DeleteEndpointConfiguration": ("EndpointConfigurations", Scope.DELETE),
    "GetEndpointConfiguration": ("EndpointConfigurations", Scope.VIEW),
    "GetEndpointConfigurations": ("EndpointConfigurations", Scope.VIEW),
    "RotateEndpointConfigurationKey": ("EndpointConfigurations", Scope.EDIT),
    "TestEndpointConfiguration": ("EndpointConfigurations", Scope.EDIT),
    "CreateEventExportConfiguration": ("EventExportConfiguration", Scope.CREATE),
    "UpdateEventExportConfiguration": ("EventExportConfiguration", Scope.EDIT),
    "DeleteEventExportConfiguration": ("EventExportConfiguration", Scope.DELETE),
    "GetEventExportConfiguration": ("EventExportConfiguration", Scope.VIEW),
    "GetEventExportConfigurations": ("EventExportConfiguration", Scope.VIEW),
    "GetEventExportTargetTypes": ("EventExportConfiguration", Scope.VIEW),
    "TestEventExportConfiguration": ("EventExportConfiguration", Scope.EDIT),
    "ReplayEvents": ("EventExportConfiguration", Scope.MANAGE),
    "CreateServiceLevelCalendar": ("ServiceLevelPolicies", Scope.CREATE),
    "UpdateServiceLevelCalendar": ("ServiceLevelPolicies", Scope.EDIT),
    "DeleteServiceLevelCalendar": ("ServiceLevelPolicies", Scope.DELETE),
    "GetServiceLevelCalendar": ("ServiceLevelPolicies", Scope.VIEW),
    "ListServiceLevelCalendars": ("ServiceLevelPolicies", Scope.VIEW),
    "CreateServiceLevelPolicy": ("ServiceLevelPolicies", Scope.CREATE),
    "UpdateServiceLevelPolicy": ("ServiceLevelPolicies", Scope.EDIT),
    "DeleteServiceLevelPolicy": ("ServiceLevelPolicies", Scope.DELETE),
    "GetServiceLevelPolicy": ("ServiceLevelPolicies", Scope.VIEW),
    "ListServiceLevelPolicies": ("ServiceLevelPolicies", Scope.VIEW),
    "CreateAssignmentRule": ("AssignmentRules", Scope.CREATE),
    "UpdateAssignmentRule": ("AssignmentRules", Scope.EDIT),
    "DeleteAssignmentRule": ("AssignmentRules", Scope.DELETE),
    "ListAssignmentRules": ("AssignmentRules", Scope.VIEW),
    "SetEmployeeAvailability": None,  # any employee for themself; AssignmentRules:Edit for others (the handler)
    "AddCaseTags": ("Cases", Scope.EDIT),
    "RemoveCaseTags": ("Cases", Scope.EDIT),
    "AddCaseContact": ("Cases", Scope.EDIT),
    "RemoveCaseContact": ("Cases", Scope.EDIT),
    "LinkCases": ("Cases", Scope.EDIT),
    "UnlinkCases": ("Cases", Scope.EDIT),
}
STAFF_FUNCTIONALITIES = [
    f"{name}{scope}"
    for name in FUNCTIONALITY_NAMES
    for scope in ("", ":View", ":Create", ":Edit", ":Delete", ":Manage", ":None", ":Settings")
]


def may_call(service: str, user_type: int, functionalities: list[str]) -> bool:
    if not user_type & (UserType.EMPLOYEE | UserType.API):
        return False
    rule = STAFF_RULES[service]
    if rule is None:
        return True
    name, needed = rule
    scopes = [parse_functionality(f)[1] for f in functionalities if f.split(":")[0] == name]
    return any(scope & needed == needed for scope in scopes)


def test_every_employee_service_has_its_rule_stated_here() -> None:
    staff_ops = {
        n
        for n in OPERATIONS
        if not REGISTRY.get(n).access.user_types & UserType.CUSTOMER  # type: ignore[union-attr]
    }
    assert staff_ops == set(STAFF_RULES)


@PROPERTY_SETTINGS
@given(
    service=st.sampled_from(sorted(STAFF_RULES)),
    user_type=st.sampled_from(USER_TYPES),
    functionalities=st.lists(st.sampled_from(STAFF_FUNCTIONALITIES), max_size=3, unique=True),
)
async def test_employee_services_follow_user_type_and_functionality(
    api: Api, service: str, user_type: int, functionalities: list[str]
) -> None:
    r = await api.call(service, {}, token(next(_customer_ids), user_type, functionalities))
    assert r.status_code < 500, r.text
    if may_call(service, user_type, functionalities):
        assert r.status_code != 403, (service, user_type, functionalities, r.text)
    else:
        assert r.status_code == 403 and r.json()["Error"]["Type"] == "Forbidden", r.text


CASE_ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "status_id": st.sampled_from([1, 2]),
            "topic_id": st.sampled_from([1, 2]),
            "priority": st.sampled_from([0, 1]),
            "assignee_id": st.sampled_from([None, 90, 91]),
            "customer_id": st.sampled_from([None, 10, 11]),
            "title": st.sampled_from(["Zipper broke", "zipper", "Late parcel"]),
            "is_archived": st.booleans(),
        }
    ),
    max_size=25,
)
LIST_FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "StatusID": st.sampled_from([1, 2]),
        "TopicID": st.sampled_from([1, 2]),
        "Priority": st.sampled_from([0, 1]),
        "AssigneeID": st.sampled_from([90, 91]),
        "CustomerID": st.sampled_from([10, 11]),
        "Title": st.sampled_from(["ZIP", "parcel"]),
    },
)
AGENT = token(90, UserType.EMPLOYEE, ["Cases:View"])
COLUMN_OF = {"StatusID": "status_id", "TopicID": "topic_id", "Priority": "priority", "AssigneeID": "assignee_id"}


@PROPERTY_SETTINGS
@given(cases=CASE_ROWS, filters=LIST_FILTERS, limit=st.integers(min_value=1, max_value=5))
async def test_list_cases_pages_every_matching_case_once_newest_first_whatever_the_filters(
    api: Api, db: asyncpg.Connection, cases: list[dict[str, Any]], filters: dict[str, Any], limit: int
) -> None:
    # Whichever filter drives the page from its index, the pages hold exactly the unarchived cases matching
    # every filter, newest first, forward and back.
    await db.execute("DELETE FROM interactions; DELETE FROM cases")
    await db.execute("INSERT INTO users (id, user_type) VALUES (10, 2), (11, 2), (91, 1) ON CONFLICT DO NOTHING")
    ids = []
    for c in cases:
        ids.append(
            await db.fetchval(
                "INSERT INTO cases (status_id, topic_id, priority, assignee_id, customer_id, title, is_archived,"
                " closing_time) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL) RETURNING id",
                *(c[k] for k in ("status_id", "topic_id", "priority", "assignee_id", "customer_id", "title")),
                c["is_archived"],
            )
        )

    def matches(c: dict[str, Any]) -> bool:
        wanted = [c[COLUMN_OF.get(k, "customer_id")] == v for k, v in filters.items() if k != "Title"]
        title = filters.get("Title")
        return not c["is_archived"] and all(wanted) and (title is None or title.lower() in c["title"].lower())

    expected = sorted((i for i, c in zip(ids, cases, strict=True) if matches(c)), reverse=True)
    pages, back = await walk_pages(api, "ListCases", {"InitialPageConfig": {"Limit": limit, "Filter": filters}}, AGENT)
    assert all(len(p) <= limit for p in pages)
    assert [i for p in pages for i in p] == expected
    assert back == pages
