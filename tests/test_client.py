"""evacase.client (issue 18): calls by name and typed, EVA errors as exceptions, and a write retried after a
dropped connection carried out once (its Idempotency-Key kept across the retries)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from evacase.app import create_app
from evacase.client import EvaApiError, EvaClient
from evacase.services.customer_cases import CustomerCreateCase, CustomerCreateCaseResponse
from tests.conftest import make_settings
from tests.helpers import customer


class DropsAfterSending(httpx.AsyncBaseTransport):
    """The network in front of the real app: the first `drops` requests reach the app, but their answers are
    lost on the way back (the client sees a dropped connection after the server did the work)."""

    def __init__(self, app: object, drops: int) -> None:
        self.inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.drops = drops
        self.keys: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.keys.append(request.headers.get("Idempotency-Key"))
        response = await self.inner.handle_async_request(request)
        if self.drops > 0:
            self.drops -= 1
            await response.aread()
            raise httpx.RemoteProtocolError("connection dropped", request=request)
        return response


@pytest.fixture
async def app(db_dsn: str):  # type: ignore[no-untyped-def]
    application = create_app(make_settings(db_dsn))
    async with application.router.lifespan_context(application):
        yield application


async def test_a_write_retried_after_a_dropped_answer_happens_once(app: object, db: asyncpg.Connection) -> None:
    network = DropsAfterSending(app, drops=2)
    async with EvaClient("http://evacase.test", customer(5), transport=network, backoff=0.01) as client:
        created = await client.call("CustomerCreateCase", {"TopicID": 1, "Title": "Lost twice", "Description": "d"})
        assert await db.fetchval("SELECT count(*) FROM cases") == 1
        assert created == {"ID": await db.fetchval("SELECT id FROM cases")}
        assert len(network.keys) == 3 and len(set(network.keys)) == 1 and network.keys[0]  # one key, kept
        typed = await client.send(CustomerCreateCase(TopicID=1, Title="Typed case", Description="d"))
        assert isinstance(typed, CustomerCreateCaseResponse) and created["ID"] < typed.ID
        listed = await client.call("CustomerListCases")
        assert [c["Title"] for c in listed["Results"]] == ["Typed case", "Lost twice"]
        assert network.keys[-1] is None  # a read carries no key
        with pytest.raises(EvaApiError) as refused:
            await client.call("CustomerGetCaseByID", {"ID": 999})
        assert (refused.value.status, refused.value.code) == (404, "Case:NotFound")


def test_the_sync_client_against_a_running_server(db_dsn: str) -> None:
    import socket
    import threading
    import time

    import uvicorn

    from evacase.client import SyncEvaClient

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(make_settings(db_dsn)), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        with SyncEvaClient(f"http://127.0.0.1:{port}", customer(6)) as client:
            made = client.send(CustomerCreateCase(TopicID=2, Title="From a script", Description="d"))
            assert isinstance(made, CustomerCreateCaseResponse)
            assert client.call("CustomerGetCaseByID", {"ID": made.ID})["Title"] == "From a script"
            with pytest.raises(EvaApiError) as refused:
                client.call("NoSuchService")
            assert refused.value.status == 404
    finally:
        server.should_exit = True
        thread.join(timeout=20)
