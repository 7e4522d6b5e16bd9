"""The registry's promises about handlers, checked against a real database."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from evacase.auth import Caller, UserType
from evacase.context import Context
from evacase.domain.event_exports import ExportSettings
from evacase.domain.users import record_user
from evacase.paging import PageTokens
from evacase.services import build_registry
from tests.helpers import CountingConnection

REGISTRY = build_registry()

# A request that succeeds, for every operation registered with one_statement=True (a new one must add its own).
ONE_STATEMENT_REQUESTS: dict[str, dict[str, Any]] = {
    "CustomerCreateCase": {"Title": "My parcel is late", "Description": "Ordered a week ago.", "TopicID": 2},
    "CreateCaseStatus": {"Name": "WaitingForCustomer"},
    "CreateCaseTopic": {"Name": "Late delivery", "ParentID": 2},
    "UpdateCaseTopic": {"ID": 3, "Name": "Payments", "Description": None},
    "DeleteCaseTopic": {"ID": 7},
    "CreateCaseInteraction": {"CaseID": 1, "InteractionType": 1, "Text": "A private note"},
    "CustomerCreateCaseInteraction": {"CaseID": 1, "Text": "Any news?"},
    "SetOrganizationUnit": {"ID": 10, "Name": "Store Utrecht", "BackendID": "S10"},
    "CreateCustomField": {"Name": "Serial number", "DataType": 0},
    "DeleteCustomField": {"ID": 100},
    "UnsetCustomFieldOptions": {"CustomFieldID": 100},
    "UpdateCaseState": {"ID": 1, "StatusID": 2, "Priority": 2},
    "CreateEndpointConfiguration": {"Name": "CRM", "Endpoint": "http://127.0.0.1:9/hook"},
    "DeleteEndpointConfiguration": {"ID": 100},
    "RotateEndpointConfigurationKey": {"ID": 100, "KeyID": 2},
    "CreateEventExportConfiguration": {"Name": "Every case event", "EndpointConfigurationID": 100},
    "DeleteEventExportConfiguration": {"ID": 100},
    "CreateServiceLevelCalendar": {
        "Name": "Office",
        "TimeZone": "Europe/Amsterdam",
        "BusinessHours": {"Monday": [{"From": "09:00", "To": "17:00"}]},
    },
    "DeleteServiceLevelCalendar": {"ID": 100},
    "CreateServiceLevelPolicy": {"Name": "Everything", "ResolutionMinutes": 60},
    "DeleteServiceLevelPolicy": {"ID": 100},
    "DeleteAssignmentRule": {"ID": 100},
}
# Operations whose one write follows a read its rules need (optimistic: the write checks the row version read).
READS_FIRST = {"UpdateCaseState"}
# Operations that open their own transactions (a blob's row commits before its content goes to an outside store):
# tests/test_blob_storage.py covers them.
OWN_TRANSACTIONS = {name for name in REGISTRY.names() if REGISTRY.get(name).own_transactions}  # type: ignore[union-attr]


def test_only_the_services_storing_blobs_open_their_own_transactions() -> None:
    assert {"StoreBlob", "CreateBlob", "DeleteBlob", "GetCaseReceipt"} == OWN_TRANSACTIONS


def test_every_one_statement_operation_has_a_request_here() -> None:
    one_statement = {name for name in REGISTRY.names() if REGISTRY.get(name).one_statement}  # type: ignore[union-attr]
    assert one_statement == set(ONE_STATEMENT_REQUESTS) | OWN_TRANSACTIONS


@pytest.mark.parametrize("name", sorted(ONE_STATEMENT_REQUESTS))
async def test_a_one_statement_operation_sends_exactly_one_statement(name: str, db: asyncpg.Connection) -> None:
    op = REGISTRY.get(name)
    assert op is not None and op.one_statement and op.writes
    caller = Caller(user_id=7, user_type=UserType.CUSTOMER, functionalities={}, first_name="Jane", last_name="Doe")
    await record_user(db, caller)
    await db.execute("INSERT INTO cases (customer_id, topic_id, status_id, title) VALUES (7, 1, 1, 'A case')")
    await db.execute("INSERT INTO custom_fields (id, name, data_type) VALUES (100, 'Size', 0)")
    await db.execute(
        "INSERT INTO endpoint_configurations (id, name, endpoint, secret_key1, secret_key2)"
        " VALUES (100, 'CRM', 'http://127.0.0.1:9/hook', 'plain:a', 'plain:b');"
        "INSERT INTO event_export_configurations (id, name, endpoint_configuration_id) VALUES (100, 'All', 100);"
        "INSERT INTO service_level_calendars (id, name, time_zone, business_hours, opening)"
        " VALUES (100, 'Office', 'UTC', '{}', '{}');"
        "INSERT INTO service_level_policies (id, name, position) VALUES (100, 'Everything', 0);"
        "INSERT INTO assignment_rules (id, name, position, assignee_ids) VALUES (100, 'Everyone', 0, '{7}')"
    )
    conn = CountingConnection(db)
    ctx = Context(conn, caller, "request", PageTokens(b"k" * 32), exports=ExportSettings(allow_insecure=True))  # type: ignore[arg-type]
    request = op.decoder.decode(json.dumps(ONE_STATEMENT_REQUESTS[name]).encode())
    await op.handler(ctx, request)
    assert len(conn.statements) == (2 if name in READS_FIRST else 1), conn.statements
    assert not db.is_in_transaction()


def test_every_services_module_is_composed_into_the_registry() -> None:
    import pkgutil

    import evacase.services as services

    listed = {module.__name__.rsplit(".", 1)[1] for module in services.MODULES}
    # Every module but `wire` (the shared wire pieces) declares services.
    assert listed == {m.name for m in pkgutil.iter_modules(services.__path__)} - {"wire"}
    assert all(module.ops.specs for module in services.MODULES)  # each declares at least one operation
