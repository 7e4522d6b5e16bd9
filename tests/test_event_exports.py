"""Event exports end to end: configuration services, signed deliveries to a local receiver (verified with the
README's receiver example and both keys, before and after a rotation), per-case order, retries with a growing
Attempt, Error after consecutive failures and resuming, a worker killed mid-delivery, two workers at once,
ReplayEvents, the Test services, and the endpoint safety checks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evacase.auth import UserType
from evacase.db import create_pool
from evacase.domain.endpoints import address_refusal
from evacase.domain.event_exports import ExportSettings
from evacase.domain.secrets import Sealer
from evacase.jobs.exports import DeliveryWorker
from examples.eva_event_receiver import verify
from tests.conftest import make_settings, serving
from tests.helpers import Api, customer, employee, token
from tests.receiver import Receiver
from tests.strategies import PROPERTY_SETTINGS

ADMIN = employee(
    95,
    [
        "Cases:Manage",
        "EndpointConfigurations:Manage",
        "EventExportConfiguration:Manage",
    ],
)
INTEGRATOR = token(96, UserType.API, ["PushCases:None"])
CUSTOMER_ID = 97
CUSTOMER = customer(CUSTOMER_ID, "Cathy", "Client")
FAST = {"event_exports_allow_insecure": True, "event_retry_base_seconds": 0.05}


@contextlib.asynccontextmanager
async def exporting(db_dsn: str, worker: bool = True) -> AsyncIterator[Api]:
    async with serving(make_settings(db_dsn, worker=worker, **FAST)) as api:
        yield api


async def configure(
    api: Api, url: str, endpoint: dict[str, Any] | None = None, **export: Any
) -> tuple[int, int, str, str]:
    """An endpoint at `url` and an export of every case event to it: (endpoint, export, key1, key2)."""
    body = {"Name": "CRM", "Endpoint": url, **(endpoint or {})}
    created = await api.ok("CreateEndpointConfiguration", body, ADMIN)
    body = {"Name": "Cases to the CRM", "EndpointConfigurationID": created["ID"], **export}
    export_id = (await api.ok("CreateEventExportConfiguration", body, ADMIN))["ID"]
    return created["ID"], export_id, created["SecretKey1"], created["SecretKey2"]


async def new_case(api: Api) -> int:
    body = {"Title": "My parcel is late", "Description": "Two weeks.", "TopicID": 2}
    case_id: int = (await api.ok("CustomerCreateCase", body, CUSTOMER))["ID"]
    return case_id


# --- deliveries ------------------------------------------------------------------------------------------


async def test_every_change_is_delivered_signed_in_order(db_dsn: str, db: asyncpg.Connection) -> None:
    async with Receiver() as receiver, exporting(db_dsn) as api:
        _, _, key1, key2 = await configure(api, receiver.url)
        case_id = await new_case(api)
        message = await api.ok("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": "Any news?"}, CUSTOMER)
        await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 2}, ADMIN)
        got = await receiver.wait_for(3)
        uids = [str(r["uid"]) for r in await db.fetch("SELECT uid FROM case_events ORDER BY id")]
        assert [r.event for r in got] == [
            {"UID": uids[0], "CreationTime": got[0].event["CreationTime"], "Target": "Cases",
             "EventType": "created", "Identifier": case_id, "Attempt": 1},
            {"UID": uids[1], "CreationTime": got[1].event["CreationTime"], "Target": "Cases",
             "EventType": "interaction_created", "Identifier": case_id, "Data": {"InteractionID": message["ID"]},
             "Attempt": 1},
            {"UID": uids[2], "CreationTime": got[2].event["CreationTime"], "Target": "Cases",
             "EventType": "updated", "Identifier": case_id, "Attempt": 1},
        ]  # fmt: skip
        for r in got:
            assert verify(r.headers, r.body, key1, None) and verify(r.headers, r.body, None, key2)
            assert not verify(r.headers, r.body, "another key", None)
            assert r.headers["Content-Type"] == "application/json"
        # Delivered and recorded so: nothing pending, the endpoint reached.
        pending = await db.fetchval("SELECT count(*) FROM event_deliveries WHERE delivered_at IS NULL")
        assert pending == 0
        view = (await api.ok("GetEventExportConfigurations", {}, ADMIN))["Items"][0]
        assert view["PendingDeliveries"] == 0 and view["FailingDeliveries"] == 0 and view["LastDeliveryTime"]


async def test_a_rotated_key_signs_the_next_deliveries(db_dsn: str) -> None:
    async with Receiver() as receiver, exporting(db_dsn) as api:
        endpoint_id, _, key1, key2 = await configure(api, receiver.url)
        await new_case(api)
        first = (await receiver.wait_for(1))[0]
        assert verify(first.headers, first.body, key1, key2)
        rotated = await api.ok("RotateEndpointConfigurationKey", {"ID": endpoint_id, "KeyID": 1}, ADMIN)
        assert set(rotated) == {"SecretKey1"} and rotated["SecretKey1"] != key1
        await new_case(api)
        second = (await receiver.wait_for(2))[1]
        assert verify(second.headers, second.body, rotated["SecretKey1"], None)  # the new key 1
        assert verify(second.headers, second.body, None, key2)  # key 2 unchanged: receivers switch at leisure
        assert not verify(second.headers, second.body, key1, None)


async def test_failures_retry_with_a_growing_attempt_and_keep_each_cases_order(
    db_dsn: str, db: asyncpg.Connection
) -> None:
    async with Receiver(statuses=[503, 500, 429]) as receiver, exporting(db_dsn) as api:
        await configure(api, receiver.url)
        case_id = await new_case(api)
        await api.ok("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": "Any news?"}, CUSTOMER)
        got = await receiver.wait_for(2)
        attempts = [(r.event["EventType"], r.event["Attempt"], r.status) for r in receiver.received]
        assert attempts == [
            ("created", 1, 503),
            ("created", 2, 500),
            ("created", 3, 429),
            ("created", 4, 200),
            ("interaction_created", 1, 200),  # waited for the case's earlier event
        ]
        assert [r.event["EventType"] for r in got] == ["created", "interaction_created"]
        row = await db.fetchrow("SELECT attempt, last_status FROM event_deliveries ORDER BY event_id LIMIT 1")
        assert tuple(row) == (4, 200)


async def test_consecutive_failures_put_the_export_in_error_until_it_is_enabled_again(
    db_dsn: str, db: asyncpg.Connection
) -> None:
    async with Receiver(statuses=[503] * 3) as receiver, exporting(db_dsn, worker=False) as api:
        _, export_id, _, _ = await configure(api, receiver.url)
        await new_case(api)
        settings = ExportSettings(allow_insecure=True, retry_base_seconds=0.01, failures_before_error=3)
        pool = await create_pool(db_dsn, 1, 2)
        try:
            worker = DeliveryWorker(pool, settings)
            for _ in range(50):
                await worker.deliver_due()
                if len(receiver.received) == 3:
                    break
                await asyncio.sleep(0.02)
            view = (await api.ok("GetEventExportConfiguration", {"ID": export_id}, ADMIN))["Result"]
            assert (view["Status"], view["EffectiveStatus"], view["PendingDeliveries"]) == (3, 3, 1)
            assert view["ErrorReason"] == "3 consecutive deliveries failed; the last: HTTP 503"
            await asyncio.sleep(0.1)
            assert await worker.deliver_due() == 0  # in Error: nothing is sent, nothing dropped
            await api.ok("UpdateEventExportConfiguration", {"ID": export_id, "Status": 1}, ADMIN)
            assert await worker.deliver_due() == 1
        finally:
            await settings.close()
            await pool.close()
        assert [r.status for r in receiver.received] == [503, 503, 503, 200]
        view = (await api.ok("GetEventExportConfiguration", {"ID": export_id}, ADMIN))["Result"]
        assert (view["Status"], view.get("ErrorReason"), view["PendingDeliveries"]) == (1, None, 0)


async def test_a_worker_killed_mid_delivery_loses_nothing(db_dsn: str, db: asyncpg.Connection) -> None:
    async with Receiver(hang=True) as receiver, exporting(db_dsn, worker=False) as api:
        await configure(api, receiver.url, {"TimeoutSeconds": 1})
        await new_case(api)
        settings = ExportSettings(allow_insecure=True, retry_base_seconds=0.01, lease_margin_seconds=0.2)
        pool = await create_pool(db_dsn, 1, 2)
        try:
            first = asyncio.ensure_future(DeliveryWorker(pool, settings).deliver_due())
            await asyncio.wait_for(receiver.arrived.wait(), 5)
            first.cancel()  # killed while the receiver holds the request
            with contextlib.suppress(asyncio.CancelledError):
                await first
            await asyncio.wait_for(receiver.abandoned.wait(), 5)
            receiver.hang = False
            second = DeliveryWorker(pool, settings)
            assert await second.deliver_due() == 0  # the lease still holds: nobody else delivers it meanwhile
            await asyncio.sleep(1.3)  # the lease (the endpoint's timeout, 1 s, + the margin) runs out
            assert await second.deliver_due() == 1
        finally:
            await settings.close()
            await pool.close()
        assert [(r.event["EventType"], r.event["Attempt"], r.status) for r in receiver.received] == [
            ("created", 2, 200)
        ]
        assert await db.fetchval("SELECT count(*) FROM event_deliveries WHERE delivered_at IS NULL") == 0


async def test_two_workers_never_deliver_one_event_at_once(db_dsn: str, db: asyncpg.Connection) -> None:
    async with Receiver(delay=0.01) as receiver, exporting(db_dsn, worker=False) as api:
        await configure(api, receiver.url, ConcurrentRequests=4)
        cases = [await new_case(api) for _ in range(6)]
        for case_id in cases:
            await api.ok("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": "Any news?"}, CUSTOMER)
        settings = ExportSettings(allow_insecure=True, retry_base_seconds=0.01, poll_seconds=0.05)
        pool = await create_pool(db_dsn, 2, 6)
        workers = [asyncio.ensure_future(DeliveryWorker(pool, settings).run()) for _ in range(2)]
        try:
            got = await receiver.wait_for(12)
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await settings.close()
            await pool.close()
        assert receiver.overlaps == 0
        assert len({r.event["UID"] for r in got}) == 12 == len(receiver.received)  # each once
        for case_id in cases:  # and each case's events in order
            kinds = [r.event["EventType"] for r in got if r.event["Identifier"] == case_id]
            assert kinds == ["created", "interaction_created"]


async def test_replay_sends_a_range_again_and_disabled_exports_are_not_sent(
    db_dsn: str, db: asyncpg.Connection
) -> None:
    async with Receiver() as receiver, exporting(db_dsn) as api:
        _, export_id, _, _ = await configure(api, receiver.url)
        await new_case(api)
        await receiver.wait_for(1)
        push = {
            "BackendSystemID": "CRM",
            "BackendID": "C-1",
            "CaseTopic": {"BackendID": "T-RET", "Name": "Returns"},
            "Title": "Quiet",
            "Description": "No events for this one.",
            "Status": "New",
            "DisableEventExports": True,
        }
        await api.ok("PushCase", push, INTEGRATOR)
        replay = await api.ok("ReplayEvents", {"ID": export_id, "From": "2000-01-01T00:00:00Z"}, ADMIN)
        assert replay == {"ID": export_id}
        got = await receiver.wait_for(2)
        assert [(r.event["EventType"], r.event["Attempt"]) for r in got] == [("created", 1), ("created", 2)]
        assert got[0].event["UID"] == got[1].event["UID"]  # the same event again: receivers dedupe on UID
        await asyncio.sleep(0.2)
        assert len(receiver.received) == 2  # the push with DisableEventExports never went out


async def test_message_types_and_units_choose_what_is_sent(db_dsn: str, db: asyncpg.Connection) -> None:
    async with Receiver() as receiver, exporting(db_dsn) as api:
        only_messages = {"Config": {"MessageTypes": [{"TargetID": 25, "EventType": "interaction_created"}]}}
        await configure(api, receiver.url, **only_messages)
        case_id = await new_case(api)
        await api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 2}, ADMIN)
        message = await api.ok("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": "Hi"}, CUSTOMER)
        got = await receiver.wait_for(1)
        assert got[0].event["Data"] == {"InteractionID": message["ID"]}
        await asyncio.sleep(0.2)
        assert len(receiver.received) == 1


# --- the Test services --------------------------------------------------------------------------------------


async def test_the_test_services_send_a_signed_test_event(db_dsn: str) -> None:
    async with Receiver() as receiver, exporting(db_dsn, worker=False) as api:
        endpoint_id, export_id, key1, key2 = await configure(api, receiver.url)
        answer = await api.ok("TestEndpointConfiguration", {"ID": endpoint_id}, ADMIN)
        assert answer == {"Success": True, "StatusCode": 200, "ResponseBody": "received"}
        answer = await api.ok("TestEventExportConfiguration", {"ID": export_id, "EventType": "ping"}, ADMIN)
        assert answer == {"Success": True, "StatusCode": 200, "ResponseBody": "received"}
        first, second = receiver.received
        assert (first.event["Target"], first.event["EventType"], first.event["Data"]) == (
            "System",
            "test",
            {"IsTest": True},
        )
        assert second.event["EventType"] == "ping"
        assert all(verify(r.headers, r.body, key1, key2) for r in receiver.received)
    # Nobody listening any more: an answer that says so, not an error.
    async with exporting(db_dsn, worker=False) as api:
        answer = await api.ok("TestEndpointConfiguration", {"ID": endpoint_id}, ADMIN)
        assert answer["Success"] is False and answer["StatusCode"] == 0 and answer["ErrorMessage"]


# --- configuration ----------------------------------------------------------------------------------------


async def test_configurations_round_trip_and_show_no_secret(db_dsn: str) -> None:
    async with exporting(db_dsn, worker=False) as api:
        body = {
            "Name": "CRM",
            "Endpoint": "http://127.0.0.1:9/hook",
            "BackendID": "crm-1",
            "Authorization": {"StaticBearerToken": "s3cret", "Headers": {"X-Tenant": "shop-1"}},
            "TimeoutSeconds": 3,
        }
        created = await api.ok("CreateEndpointConfiguration", body, ADMIN)
        assert set(created) == {"ID", "SecretKey1", "SecretKey2"} and created["SecretKey1"] != created["SecretKey2"]
        endpoint = (await api.ok("GetEndpointConfiguration", {"ID": created["ID"]}, ADMIN))["Result"]
        assert endpoint == {
            "ID": created["ID"],
            "Name": "CRM",
            "BackendID": "crm-1",
            "Endpoint": "http://127.0.0.1:9/hook",
            "Status": 1,
            "IgnoreNullValues": True,
            "UseStringIDs": False,
            "TimeoutInSeconds": 3,
            "Authorization": {"StaticBearerToken": "********", "Headers": {"X-Tenant": "********"}},
            "SecretKey1": "********",
            "SecretKey2": "********",
        }
        update = {"ID": created["ID"], "Name": "CRM 2", "BackendID": None, "UseStringIDs": True}
        assert await api.ok("UpdateEndpointConfiguration", update, ADMIN) == {}
        listed = (await api.ok("GetEndpointConfigurations", {}, ADMIN))["Items"]
        assert [(e["Name"], e.get("BackendID"), e["UseStringIDs"]) for e in listed] == [("CRM 2", None, True)]

        config = {
            "MessageTypes": [{"TargetID": 25, "EventType": "created"}, {"TargetID": 1, "EventType": "created"}],
            "IncludeOrganizationUnits": [4],
            "TimeoutSeconds": 2,
        }
        body = {"Name": "New cases", "EndpointConfigurationID": created["ID"], "Config": config}
        export_id = (await api.ok("CreateEventExportConfiguration", body, ADMIN))["ID"]
        export = (await api.ok("GetEventExportConfiguration", {"ID": export_id}, ADMIN))["Result"]
        assert export == {
            "ID": export_id,
            "Name": "New cases",
            "ConcurrentRequests": 1,
            "Config": config,
            "EffectiveStatus": 1,
            "Endpoint": "http://127.0.0.1:9/hook",
            "EndpointConfigurationID": created["ID"],
            "EndpointStatus": 1,
            "IsReplay": False,
            "Status": 1,
            "SecretKey1": "********",
            "SecretKey2": "********",
            "PendingDeliveries": 0,
            "FailingDeliveries": 0,
        }
        await api.ok("UpdateEndpointConfiguration", {"ID": created["ID"], "Status": 2}, ADMIN)
        export = (await api.ok("GetEventExportConfiguration", {"ID": export_id}, ADMIN))["Result"]
        assert (export["Status"], export["EffectiveStatus"], export["EndpointStatus"]) == (1, 2, 2)
        types = await api.ok("GetEventExportTargetTypes", {}, ADMIN)
        assert types == {
            "EventTargets": [
                {
                    "Target": 25,
                    "Types": [
                        "created",
                        "updated",
                        "archived",
                        "interaction_created",
                        "interaction_updated",
                        "interaction_deleted",
                    ],
                }
            ]
        }
        assert await api.ok("GetEventExportTargetTypes", {"EventTarget": 1}, ADMIN) == {"EventTypes": []}
        assert await api.ok("DeleteEndpointConfiguration", {"ID": created["ID"]}, ADMIN) == {}
        export = (await api.ok("GetEventExportConfiguration", {"ID": export_id}, ADMIN))["Result"]
        assert (export.get("EndpointConfigurationID"), export["EffectiveStatus"], export["Endpoint"]) == (None, 3, "")
        assert await api.ok("DeleteEventExportConfiguration", {"ID": export_id}, ADMIN) == {}
        err = await api.error("GetEventExportConfiguration", {"ID": export_id}, ADMIN, 404)
        assert err["Code"] == "EventExportConfiguration:NotFound"


REFUSED_CONFIGURATIONS = [
    ({"Authorization": {"StaticBearerToken": "a", "StaticUnschemedToken": "b"}}, "EndpointConfiguration:Invalid"),
    ({"Authorization": {"BasicUsername": "a"}}, "EndpointConfiguration:Invalid"),
    ({"Authorization": {"Headers": {"X-EVA-Signing-1": "x"}}}, "EndpointConfiguration:Invalid"),
    ({"Authorization": {"Headers": {"Content-Type": "text/plain"}}}, "EndpointConfiguration:Invalid"),
    (
        {"Authorization": {"StaticBearerToken": "a", "Headers": {"Authorization": "b"}}},
        "EndpointConfiguration:Invalid",
    ),
    ({"Authorization": {"ClientCertificate": {"Certificate": "AAAA"}}}, "EndpointConfiguration:Invalid"),
    ({"Endpoint": "ftp://127.0.0.1/hook"}, "EndpointConfiguration:InvalidEndpoint"),
    ({"Endpoint": "http://user:pw@127.0.0.1/hook"}, "EndpointConfiguration:InvalidEndpoint"),
    ({"Endpoint": "http://10.1.2.3/hook"}, "EndpointConfiguration:InvalidEndpoint"),
    ({"Endpoint": "http://169.254.169.254/latest/meta-data"}, "EndpointConfiguration:InvalidEndpoint"),
    ({"Endpoint": "http://no-such-host.invalid/hook"}, "EndpointConfiguration:InvalidEndpoint"),
]


async def test_configurations_that_are_refused(db_dsn: str) -> None:
    async with exporting(db_dsn, worker=False) as api:
        for body, code in REFUSED_CONFIGURATIONS:
            request = {"Name": "CRM", "Endpoint": "http://127.0.0.1:9/hook", **body}
            err = await api.error("CreateEndpointConfiguration", request, ADMIN, 400)
            assert err["Code"] == code, body
        assert (await api.ok("GetEndpointConfigurations", {}, ADMIN))["Items"] == []


async def test_export_filters_evacase_cannot_honour_are_refused(db_dsn: str) -> None:
    async with exporting(db_dsn, worker=False) as api:
        endpoint = await api.ok(
            "CreateEndpointConfiguration", {"Name": "CRM", "Endpoint": "http://127.0.0.1:9/"}, ADMIN
        )
        for config in (
            {"IncludeOrganizationUnitSets": [1]},
            {"ScriptID": 4},
            {"MessageTypes": [{"TargetID": 25, "EventType": "deleted"}]},
        ):
            body = {"Name": "x", "EndpointConfigurationID": endpoint["ID"], "Config": config}
            err = await api.error("CreateEventExportConfiguration", body, ADMIN, 400)
            assert err["Code"] == "EventExportConfiguration:Invalid"
        body = {"Name": "x", "EndpointConfigurationID": 999}
        err = await api.error("CreateEventExportConfiguration", body, ADMIN, 404)
        assert err["Code"] == "EndpointConfiguration:NotFound"


async def test_endpoints_must_be_https_and_public_unless_insecure_is_allowed(db_dsn: str) -> None:
    async with serving(make_settings(db_dsn)) as api:  # the default: https and public addresses only
        for url in ("http://example.com/hook", "https://127.0.0.1/hook", "https://localhost/hook", "https://[::1]/"):
            err = await api.error("CreateEndpointConfiguration", {"Name": "x", "Endpoint": url}, ADMIN, 400)
            assert err["Code"] == "EndpointConfiguration:InvalidEndpoint", url


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("10.0.0.1", True),
        ("172.16.5.4", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("fe80::1", True),
        ("fd00::1", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("::ffff:10.0.0.1", True),
        ("224.0.0.1", True),
        ("93.184.216.34", False),
        ("2606:2800:220:1::1", False),
    ],
)
def test_which_addresses_are_refused(address: str, refused: bool) -> None:
    assert (address_refusal(address, allow_insecure=False) is not None) is refused


def test_loopback_is_allowed_only_when_insecure_is() -> None:
    assert address_refusal("127.0.0.1", allow_insecure=True) is None
    assert address_refusal("10.0.0.1", allow_insecure=True) is not None


def test_sealed_secrets_need_their_key() -> None:
    sealed = Sealer("k1").seal("s3cret")
    assert "s3cret" not in sealed and Sealer("k1").open(sealed) == "s3cret"
    assert Sealer(None).open(Sealer(None).seal("s3cret")) == "s3cret"
    for other in (Sealer(None), Sealer("k2")):
        with pytest.raises(Exception, match="EVACASE_SECRETS_KEY"):
            other.open(sealed)


async def test_customers_and_unentitled_staff_cannot_configure(db_dsn: str) -> None:
    async with exporting(db_dsn, worker=False) as api:
        body = {"Name": "CRM", "Endpoint": "http://127.0.0.1:9/hook"}
        await api.error("CreateEndpointConfiguration", body, CUSTOMER, 403)
        await api.error("CreateEndpointConfiguration", body, employee(98, ["Cases:Manage"]), 403)
        await api.error("ReplayEvents", {"ID": 1}, employee(98, ["EventExportConfiguration:View"]), 403)


async def test_a_receiver_too_slow_for_the_timeout_is_retried(db_dsn: str, db: asyncpg.Connection) -> None:
    # Retries a second apart (not the suite's 50 ms), so the first failed attempt is seen before the second starts.
    settings = make_settings(db_dsn, worker=True, event_exports_allow_insecure=True, event_retry_base_seconds=1.0)
    async with Receiver(delay=1.5) as receiver, serving(settings) as api:
        await configure(api, receiver.url, {"TimeoutSeconds": 1})
        await new_case(api)
        for _ in range(100):  # the first attempt times out after a second
            if await db.fetchval("SELECT count(*) FROM event_deliveries WHERE last_error IS NOT NULL"):
                break
            await asyncio.sleep(0.05)
        row = await db.fetchrow("SELECT attempt, last_status, last_error, delivered_at FROM event_deliveries")
        assert (row["attempt"], row["last_status"], row["last_error"], row["delivered_at"]) == (
            1,
            0,
            "timed out after 1 s",
            None,
        )
        receiver.delay = 0
        # The receiver still answers the timed-out first request late, to a client that gave up; what counts is
        # the retry, delivered and recorded so.
        for _ in range(100):
            row = await db.fetchrow("SELECT attempt, delivered_at FROM event_deliveries")
            if row["delivered_at"] is not None:
                break
            await asyncio.sleep(0.05)
        assert row["attempt"] == 2 and row["delivered_at"] is not None
        assert [r.event["Attempt"] for r in receiver.received][-1] == 2


async def test_the_address_is_checked_again_at_delivery(db_dsn: str, db: asyncpg.Connection) -> None:
    # Configured while loopback was allowed; delivered by a worker that does not allow it (as after a DNS change).
    async with Receiver() as receiver, exporting(db_dsn, worker=False) as api:
        await configure(api, receiver.url)
        await new_case(api)
        settings = ExportSettings(allow_insecure=False, retry_base_seconds=60)
        pool = await create_pool(db_dsn, 1, 2)
        try:
            assert await DeliveryWorker(pool, settings).deliver_due() == 1
        finally:
            await settings.close()
            await pool.close()
        assert receiver.received == []
        error = await db.fetchval("SELECT last_error FROM event_deliveries")
        assert error == "refused: the endpoint must be an https:// URL"


async def test_old_deliveries_and_events_are_pruned_but_pending_ones_kept(db: asyncpg.Connection) -> None:
    from evacase.jobs.purges import event_export_purge

    await db.execute(
        "INSERT INTO endpoint_configurations (id, name, endpoint, secret_key1, secret_key2)"
        " VALUES (1, 'CRM', 'https://crm.example/hook', 'plain:a', 'plain:b');"
        "INSERT INTO event_export_configurations (id, name, endpoint_configuration_id) VALUES (1, 'All', 1)"
    )
    await db.execute("INSERT INTO cases (id, topic_id, status_id, title) VALUES (1, 1, 1, 'A case')")
    await db.execute("UPDATE cases SET title = 'Changed' WHERE id = 1")  # a transaction of its own: `updated`
    await db.execute(
        "UPDATE case_events SET created_at = now() - interval '40 days';"
        "UPDATE event_deliveries SET delivered_at = now() - interval '40 days'"
    )
    old = await db.fetch("SELECT id, event_type FROM case_events ORDER BY id")
    assert [r["event_type"] for r in old] == ["created", "updated"]
    # The `updated` delivery is still pending (say the receiver is down): it and its event stay.
    await db.execute("UPDATE event_deliveries SET delivered_at = NULL WHERE event_id = $1", old[1]["id"])
    job = event_export_purge(retention_days=30)
    async with db.transaction():
        await job.batch(db)
    assert [r["event_type"] for r in await db.fetch("SELECT event_type FROM case_events ORDER BY id")] == ["updated"]
    assert await db.fetchval("SELECT count(*) FROM event_deliveries") == 1


@settings(PROPERTY_SETTINGS, max_examples=max(1, PROPERTY_SETTINGS.max_examples // 3))  # a receiver per example
@given(
    changes=st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["title", "message"])), min_size=1, max_size=12),
    answers=st.lists(st.sampled_from([200, 200, 503, 500]), max_size=12),
)
async def test_every_committed_change_is_delivered_in_its_cases_order_whatever_the_receiver_answers(
    db_dsn: str, db: asyncpg.Connection, changes: list[tuple[int, str]], answers: list[int]
) -> None:
    await db.execute("DELETE FROM event_export_configurations; DELETE FROM case_events")
    async with Receiver(statuses=list(answers)) as receiver:
        await db.execute(
            "INSERT INTO endpoint_configurations (id, name, endpoint, secret_key1, secret_key2)"
            " VALUES (1, 'CRM', $1, 'plain:k1', 'plain:k2')"
            " ON CONFLICT (id) DO UPDATE SET endpoint = excluded.endpoint",
            receiver.url,
        )
        await db.execute(
            "INSERT INTO event_export_configurations (name, endpoint_configuration_id, concurrent_requests)"
            " VALUES ('x', 1, 3)"
        )
        cases = [await db.fetchval("INSERT INTO cases (topic_id, status_id, title) VALUES (1, 1, 'A') RETURNING id")]
        cases += [await db.fetchval("INSERT INTO cases (topic_id, status_id, title) VALUES (1, 1, 'B') RETURNING id")]
        cases += [await db.fetchval("INSERT INTO cases (topic_id, status_id, title) VALUES (1, 1, 'C') RETURNING id")]
        for n, (index, kind) in enumerate(changes):
            if kind == "title":
                await db.execute("UPDATE cases SET title = $2 WHERE id = $1", cases[index], f"T{n}")
            else:
                await db.execute("INSERT INTO interactions (case_id, type, text) VALUES ($1, 0, 'x')", cases[index])
        recorded = await db.fetch("SELECT uid::text, case_id FROM case_events ORDER BY id")
        settings = ExportSettings(allow_insecure=True, retry_base_seconds=0.001, failures_before_error=1000)
        pool = await create_pool(db_dsn, 1, 3)
        try:
            worker = DeliveryWorker(pool, settings)
            for _ in range(200):
                if not await db.fetchval("SELECT count(*) FROM event_deliveries WHERE delivered_at IS NULL"):
                    break
                await worker.deliver_due()
                await asyncio.sleep(0.005)
        finally:
            await settings.close()
            await pool.close()
        delivered = [r.event for r in receiver.delivered()]
    assert sorted(e["UID"] for e in delivered) == sorted(r["uid"] for r in recorded)  # each once, none lost
    for case_id in cases:  # and each case's in the order they were recorded
        assert [e["UID"] for e in delivered if e["Identifier"] == case_id] == [
            r["uid"] for r in recorded if r["case_id"] == case_id
        ]
