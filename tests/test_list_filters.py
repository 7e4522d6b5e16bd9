"""Every list refuses a filter key it does not know (a 400 naming the key), so a misspelt filter never returns
everything; ListCases filters on the last modification time, through its index."""

from __future__ import annotations

import asyncpg
import msgspec

from evacase.services import build_registry
from tests.helpers import Api, customer, employee

STAFF = employee(
    40, ["Cases:Manage", "CaseTopics:View", "CaseStatuses:View", "CustomFields:View", "OrganizationUnits:View"]
)
REGISTRY = build_registry()


def has_filter(name: str) -> bool:
    """Whether the service's request has InitialPageConfig.Filter (EVA's list protocol)."""
    op = REGISTRY.get(name)
    assert op is not None
    info = msgspec.inspect.type_info(op.request_type)
    assert isinstance(info, msgspec.inspect.StructType)
    for field in info.fields:
        if field.name == "InitialPageConfig":
            config = next(t for t in getattr(field.type, "types", ()) if isinstance(t, msgspec.inspect.StructType))
            return any(f.name == "Filter" for f in config.fields)
    return False


LISTS = sorted(name for name in REGISTRY.names() if has_filter(name))


def test_there_are_lists_to_check() -> None:
    assert len(LISTS) == 9 and {"ListCases", "CustomerListCases", "ListCaseInteractions"} <= set(LISTS)


async def test_an_unknown_filter_key_is_refused_naming_it(api: Api) -> None:
    body = {"InitialPageConfig": {"Filter": {"LastModificationTme": "2026-01-01T00:00:00Z"}}, "CaseID": 1}
    for name in LISTS:
        tok = customer(41) if name.startswith("Customer") else STAFF
        r = await api.call(name, body, tok)
        assert r.status_code == 400, (name, r.text)
        error = r.json()["Error"]
        assert error["Type"] == "RequestValidationFailure", name
        assert "LastModificationTme" in error["Message"], (name, error)


async def test_list_cases_by_last_modification_pages_latest_first(api: Api, db: asyncpg.Connection) -> None:
    ids = []
    for n in range(5):
        body = {"Title": f"Case {n}", "Description": "x", "TopicID": 1}
        ids.append((await api.ok("CreateCase", body, STAFF))["ID"])
    # Modified 50, 40, 30 and 20 minutes ago (the newest case most recently); the fifth long ago.
    for n, case_id in enumerate(ids):
        minutes = 10 * (len(ids) - n) if n < 4 else 100_000
        await db.execute(
            "UPDATE cases SET last_modification_time = now() - $2 * interval '1 minute' WHERE id = $1", case_id, minutes
        )
    since = (await db.fetchval("SELECT now() - interval '1 hour'")).isoformat()
    body = {"InitialPageConfig": {"Limit": 2, "Filter": {"LastModificationTimeFrom": since}}}
    page = await api.ok("ListCases", body, STAFF)
    assert [c["ID"] for c in page["Results"]] == [ids[3], ids[2]]  # latest modification first
    page = await api.ok("ListCases", {"PageToken": page["NextPageToken"]}, STAFF)
    assert [c["ID"] for c in page["Results"]] == [ids[1], ids[0]]
    assert "NextPageToken" not in page
    back = await api.ok("ListCases", {"PageToken": page["PreviousPageToken"]}, STAFF)
    assert [c["ID"] for c in back["Results"]] == [ids[3], ids[2]]
    until = (await db.fetchval("SELECT now() - interval '25 minutes'")).isoformat()
    body = {"InitialPageConfig": {"Filter": {"LastModificationTimeFrom": since, "LastModificationTimeTo": until}}}
    assert [c["ID"] for c in (await api.ok("ListCases", body, STAFF))["Results"]] == [ids[2], ids[1], ids[0]]
    # With an equality filter that filter leads and the page is by ID, newest first.
    body = {"InitialPageConfig": {"Filter": {"LastModificationTimeFrom": since, "StatusID": 1}}}
    assert [c["ID"] for c in (await api.ok("ListCases", body, STAFF))["Results"]] == ids[3::-1]


async def test_a_listcases_row_shows_every_column_of_a_case_that_has_them_all(api: Api, db: asyncpg.Connection) -> None:
    """Every field of a ListCases row filled at once (its row is unpacked by position: a column out of place
    shows here)."""
    await db.execute("INSERT INTO organization_units (id, name) VALUES (10, 'Store'), (20, 'Web shop')")
    await db.execute(
        "INSERT INTO users (id, user_type, first_name, last_name, email_address) VALUES"
        " (41, 2, 'Carla', 'Customer', 'carla@example.com'), (42, 1, 'Ada', 'Agent', 'ada@example.com')"
    )
    case_id = await db.fetchval(
        "INSERT INTO cases (customer_id, topic_id, status_id, priority, title, assignee_id, assigned_on,"
        " assigned_organization_unit_id, originating_organization_unit_id, backend_id, external_order_identifier,"
        " order_id, reporting_time, creation_time, last_interaction_time, last_modification_time, created_by,"
        " last_modified_by, due_date, customer_reference, origin)"
        " VALUES (41, 1, 2, 2, 'Everything', 42, now(), 10, 20, 'B-1', 'WEB-1', 77, '2026-01-02T03:04:05.006Z',"
        " '2026-01-02T03:04:05.007Z', '2026-01-03T00:00:00.001Z', '2026-01-04T00:00:00.002Z', 41, 42,"
        " '2026-02-01T00:00:00Z', 'PO-9', 'Email') RETURNING id"
    )
    await db.execute("INSERT INTO case_tags (case_id, tag) VALUES ($1, 'vip'), ($1, 'gift')", case_id)
    await db.execute(
        "UPDATE case_service_levels SET policy_name = 'Gold', first_response_due = '2026-01-05T00:00:00Z'"
        " WHERE case_id = $1",
        case_id,
    )
    row = (await api.ok("ListCases", {}, STAFF))["Results"][0]
    last_modified = row.pop("LastModificationTime")  # the tag and service-level writes stamp the case
    assert last_modified >= "2026-01-04T00:00:00.002Z"
    assert row == {
        "ID": case_id,
        "Title": "Everything",
        "Priority": 2,
        "StatusID": 2,
        "StatusName": "InProgress",
        "TopicID": 1,
        "TopicName": "Products",
        "CustomerID": 41,
        "Customer": {
            "FirstName": "Carla",
            "LastName": "Customer",
            "FullName": "Carla Customer",
            "EmailAddress": "carla@example.com",
        },
        "AssigneeID": 42,
        "AssigneeName": "Ada Agent",
        "AssignedOrganizationUnitID": 10,
        "AssignedOrganizationUnitName": "Store",
        "OriginatingOrganizationUnitID": 20,
        "OriginatingOrganizationUnitName": "Web shop",
        "BackendID": "B-1",
        "ExternalOrderIdentifier": "WEB-1",
        "OrderID": 77,
        "ReportingTime": "2026-01-02T03:04:05.006Z",
        "CreationTime": "2026-01-02T03:04:05.007Z",
        "LastInteractionTime": "2026-01-03T00:00:00.001Z",
        "CreatedBy": {"ID": 41, "FirstName": "Carla", "LastName": "Customer", "FullName": "Carla Customer"},
        "LastModifiedBy": {"ID": 42, "FirstName": "Ada", "LastName": "Agent", "FullName": "Ada Agent"},
        "DueDate": "2026-02-01T00:00:00.000Z",
        "ServiceLevel": row["ServiceLevel"],
        "CustomerReference": "PO-9",
        "Origin": "Email",
        "Tags": ["gift", "vip"],
    }
    assert row["ServiceLevel"]["PolicyName"] == "Gold"
    assert row["ServiceLevel"]["FirstResponseDueTime"] == "2026-01-05T00:00:00.000Z"
