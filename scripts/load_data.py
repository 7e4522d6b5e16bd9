"""Fill a database with realistic case volume, fast (COPY), for benchmarks and capacity checks.

Usage:
    python scripts/load_data.py [--cases 1000000] [--interactions 5000000] [--customers 20000]
                                [--dsn postgresql://... | --home .bench] [--database NAME] [--force]

Without --dsn (and no DATABASE_URL) it starts the embedded PostgreSQL under --home (default `.bench`).
The target database (default `evacase_bench_<cases>`) is created, migrated to the current schema and filled:

- customers (users of type Customer) and a few employees who write notes;
- cases spread over the customers with a heavy skew: customer 1 holds ~4.5% of all cases (45k of 1M), the next
  few thousands each, the long tail a few dozen; IDs grow with ReportingTime, as they do in production;
- for every case its opening ledger lines (created, status), then the remaining interactions spread over the
  cases: public messages (customers and employees), private notes, e-mails, more ledger lines; the heavy
  customer's newest case is a "busy case" with thousands of interactions;
- a few sub-topics and custom statuses, orders for a third of the cases, closing times for closed cases.

Data is generated deterministically from --seed and written with COPY (asyncpg's binary copy) with secondary
indexes dropped and foreign-key triggers off during the load (the data is valid by construction), then the
indexes are rebuilt from their own definitions and the tables vacuumed and analysed. A database that already
holds a load with the same parameters is left as it is (its parameters are kept as the database's comment),
unless --force.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import sys
import time
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg

from evacase.migrate import migrate_dsn

CHUNK = 50_000
EMPLOYEES = 20
BUSY_CASE_INTERACTIONS = 5_000
STATUSES = [(1, 0.25), (2, 0.30), (3, 0.35), (4, 0.05), (5, 0.03), (6, 0.02)]  # (status id, share)
CLOSED_STATUSES = {3, 4}
CUSTOM_STATUSES = [(5, "WaitingForCustomer", False), (6, "Escalated", False)]
SUB_TOPICS = [
    (8, 2, "Late delivery"),
    (9, 2, "Damaged parcel"),
    (10, 2, "Wrong address"),
    (11, 4, "Refund"),
    (12, 4, "Exchange"),
    (13, 1, "Defect"),
    (14, 1, "Manual"),
    (15, 3, "Double charge"),
]
TOPIC_IDS = [1, 2, 3, 4, 5, 6, 7, *(t[0] for t in SUB_TOPICS)]
PRIORITIES = [0, 0, 0, 1, 1, 2, 9]
WORDS = [
    "order",
    "parcel",
    "delivery",
    "refund",
    "invoice",
    "broken",
    "size",
    "colour",
    "late",
    "missing",
    "damaged",
    "exchange",
    "account",
    "password",
    "voucher",
    "discount",
    "payment",
    "card",
    "shoe",
    "jacket",
    "strap",
    "screen",
    "battery",
    "warranty",
    "store",
    "receipt",
    "tracking",
    "courier",
]
SPAN = dt.timedelta(days=3 * 365)


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done, self.started = label, total, 0, time.perf_counter()
        self.last_draw = 0.0

    def add(self, n: int, force: bool = False) -> None:
        self.done += n
        now = time.perf_counter()
        if force or now - self.last_draw > 0.2:
            self.last_draw = now
            share = self.done / self.total if self.total else 1.0
            bar = "#" * int(share * 30)
            elapsed = now - self.started
            line = f"\r{self.label:<14} [{bar:<30}] {share:6.1%} {self.done:>11,}/{self.total:,} {elapsed:6.1f}s"
            sys.stderr.write(line)
            sys.stderr.flush()

    def finish(self) -> None:
        self.add(0, force=True)
        sys.stderr.write("\n")


def customer_of(rng: random.Random, customers: int) -> int:
    """Skewed: P(customer <= k) = (k / customers) ** (1/3), so customer 1 gets ~(1/customers) ** (1/3)."""
    return min(customers, int(customers * rng.random() ** 3) + 1)


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(WORDS, k=words)).capitalize()


def case_rows(args: argparse.Namespace, start: dt.datetime, meta: dict[str, Any]) -> Iterator[list[tuple[Any, ...]]]:
    """Chunks of case rows; records per case what the interaction generator needs."""
    rng = random.Random(args.seed)
    status_ids = [s for s, _ in STATUSES]
    status_weights = [w for _, w in STATUSES]
    step = SPAN / args.cases
    customer_of_case = meta["customer_of_case"]
    for first in range(1, args.cases + 1, CHUNK):
        last = min(args.cases, first + CHUNK - 1)
        n = last - first + 1
        statuses = rng.choices(status_ids, status_weights, k=n)
        rows = []
        for k, case_id in enumerate(range(first, last + 1)):
            customer = customer_of(rng, args.customers)
            customer_of_case.append(customer)
            if customer == 1:
                meta["busy_case"] = case_id
            status = statuses[k]
            reported = start + step * case_id + dt.timedelta(seconds=rng.random() * 60)
            closing = reported + dt.timedelta(hours=rng.random() * 300) if status in CLOSED_STATUSES else None
            assignee = None if status == 1 else args.customers + 1 + rng.randrange(EMPLOYEES)
            rows.append(
                (
                    case_id,
                    customer,
                    rng.choice(TOPIC_IDS),
                    status,
                    rng.choice(PRIORITIES),
                    f"{sentence(rng, 4)} #{case_id}",
                    sentence(rng, 20),
                    case_id if case_id % 3 == 0 else None,
                    assignee,
                    reported if assignee else None,
                    reported,
                    closing,
                    reported,
                    customer,
                    closing or reported,
                    customer,
                    reported,
                )
            )
        yield rows


CASE_COLUMNS = [
    "id",
    "customer_id",
    "topic_id",
    "status_id",
    "priority",
    "title",
    "description",
    "order_id",
    "assignee_id",
    "assigned_on",
    "reporting_time",
    "closing_time",
    "creation_time",
    "created_by",
    "last_modification_time",
    "last_modified_by",
    "last_interaction_time",
]
INTERACTION_COLUMNS = ["id", "case_id", "type", "text", "created_by", "creation_time"]


def interaction_rows(
    args: argparse.Namespace, start: dt.datetime, meta: dict[str, Any]
) -> Iterator[list[tuple[Any, ...]]]:
    """Two opening ledger lines per case, a busy case, then the rest spread over the cases."""
    rng = random.Random(args.seed + 1)
    step = SPAN / args.cases
    customer_of_case = meta["customer_of_case"]
    employee_base = args.customers + 1
    next_id = 1
    rows: list[tuple[Any, ...]] = []

    def flush() -> Iterator[list[tuple[Any, ...]]]:
        nonlocal rows
        if len(rows) >= CHUNK:
            yield rows
            rows = []

    opening = min(args.interactions, 2 * args.cases)
    for case_id in range(1, opening // 2 + 1):
        created = start + step * case_id
        customer = customer_of_case[case_id - 1]
        rows.append((next_id, case_id, 2, "Case created with priority `Low`", customer, created))
        rows.append((next_id + 1, case_id, 2, "Case status set to `New`", customer, created))
        next_id += 2
        yield from flush()
    busy = meta["busy_case"]
    remaining = args.interactions - (next_id - 1)
    busy_count = min(remaining, BUSY_CASE_INTERACTIONS)
    busy_start = start + step * busy
    for k in range(busy_count):
        author = customer_of_case[busy - 1] if k % 2 else employee_base + k % EMPLOYEES
        kind = 0 if k % 2 else rng.choice((0, 0, 1, 3))
        rows.append((next_id, busy, kind, sentence(rng, 12), author, busy_start + dt.timedelta(minutes=k)))
        next_id += 1
        yield from flush()
    remaining -= busy_count
    kinds = rng.choices((0, 1, 2, 3), (0.55, 0.25, 0.15, 0.05), k=remaining)
    for k in range(remaining):
        case_id = rng.randrange(1, args.cases + 1)
        kind = kinds[k]
        author = customer_of_case[case_id - 1] if kind == 0 and k % 2 else employee_base + rng.randrange(EMPLOYEES)
        created = start + step * case_id + dt.timedelta(hours=rng.random() * 200)
        rows.append((next_id, case_id, kind, sentence(rng, 12), author, created))
        next_id += 1
        yield from flush()
    if rows:
        yield rows


async def copy(
    conn: asyncpg.Connection, table: str, columns: list[str], chunks: Iterator[list[Any]], progress: Progress
) -> None:
    for rows in chunks:
        await conn.copy_records_to_table(table, records=rows, columns=columns)
        progress.add(len(rows))
    progress.finish()


def parameters(args: argparse.Namespace) -> dict[str, int]:
    return {
        "cases": args.cases,
        "interactions": args.interactions,
        "customers": args.customers,
        "seed": args.seed,
        "version": 1,
    }


async def load(conn: asyncpg.Connection, args: argparse.Namespace) -> None:
    start = dt.datetime.now(dt.UTC) - SPAN - dt.timedelta(days=1)
    meta: dict[str, Any] = {"customer_of_case": array("i"), "busy_case": 1}
    # The data is valid by construction: skip per-row foreign-key triggers (needs a superuser; else they run).
    replica = True
    try:
        await conn.execute("SET session_replication_role = replica")
    except asyncpg.InsufficientPrivilegeError:
        replica = False
        sys.stderr.write("not a superuser: foreign keys are checked row by row (slower)\n")
    tables = ["cases", "interactions"]
    indexes = await conn.fetch(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.schemaname = 'public' AND i.tablename = ANY($1::text[])
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
        tables,
    )
    for index in indexes:
        await conn.execute(f'DROP INDEX "{index["indexname"]}"')

    employees = [
        (args.customers + 1 + k, 1, "Agent", str(k + 1), f"agent{k + 1}@example.com") for k in range(EMPLOYEES)
    ]
    people = Progress("users", args.customers + EMPLOYEES)
    customers = ((i, 2, "Customer", str(i), f"customer{i}@example.com") for i in range(1, args.customers + 1))
    await copy(
        conn,
        "users",
        ["id", "user_type", "first_name", "last_name", "email_address"],
        chunked([*customers, *employees]),
        people,
    )
    await conn.executemany("INSERT INTO case_topics (id, parent_id, name) VALUES ($1, $2, $3)", SUB_TOPICS)
    await conn.executemany("INSERT INTO case_statuses (id, name, is_closed) VALUES ($1, $2, $3)", CUSTOM_STATUSES)
    await copy(conn, "cases", CASE_COLUMNS, case_rows(args, start, meta), Progress("cases", args.cases))
    customer_of_case = meta["customer_of_case"]
    orders = ((case_id, customer_of_case[case_id - 1]) for case_id in range(3, args.cases + 1, 3))
    await copy(conn, "orders", ["id", "customer_id"], chunked(orders), Progress("orders", args.cases // 3))
    await copy(
        conn,
        "interactions",
        INTERACTION_COLUMNS,
        interaction_rows(args, start, meta),
        Progress("interactions", args.interactions),
    )
    if replica:
        await conn.execute("RESET session_replication_role")
    rebuild = Progress("indexes", len(indexes))
    for index in indexes:
        await conn.execute(index["indexdef"])
        rebuild.add(1)
    rebuild.finish()
    for table in ("case_topics", "case_statuses", "cases", "interactions"):
        await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def chunked(rows: Iterator[tuple[Any, ...]] | list[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def database_dsn(server_dsn: str, database: str) -> str:
    """The server's DSN pointed at another database (works for URLs with or without a path or query)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(server_dsn)
    return urlunsplit(parts._replace(path="/" + database))


async def prepare(server_dsn: str, args: argparse.Namespace) -> str:
    """Create, migrate and fill the database unless it already holds this load. Returns its DSN."""
    database = args.database or f"evacase_bench_{args.cases}"
    wanted = parameters(args)
    admin = await asyncpg.connect(server_dsn)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if exists and not args.force:
            comment = await admin.fetchval(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", database
            )
            if comment == json.dumps(wanted, sort_keys=True):
                sys.stderr.write(f"{database} already holds this load ({comment}); --force reloads it\n")
                return database_dsn(server_dsn, database)
        if exists:
            await admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    dsn = database_dsn(server_dsn, database)
    await migrate_dsn(dsn)
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        await load(conn, args)
        sys.stderr.write("vacuum analyze ...\n")
        await conn.execute("VACUUM (ANALYZE)")
        await conn.execute(f"COMMENT ON DATABASE \"{database}\" IS '{json.dumps(wanted, sort_keys=True)}'")
    finally:
        await conn.close()
    sys.stderr.write(f"loaded {database} in {time.perf_counter() - started:.0f}s\n")
    return dsn


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, help="default: 5 per case")
    parser.add_argument("--customers", type=int, help="default: one per 50 cases (at least 10)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dsn", default=os.environ.get("DATABASE_URL"), help="server to use (default DATABASE_URL)")
    parser.add_argument("--home", type=Path, default=Path(".bench"), help="embedded PostgreSQL home without --dsn")
    parser.add_argument("--database", help="default evacase_bench_<cases>")
    parser.add_argument("--force", action="store_true", help="reload even if the database holds this load")
    return parser


def resolve(args: argparse.Namespace) -> argparse.Namespace:
    if args.interactions is None:
        args.interactions = 5 * args.cases
    if args.customers is None:
        args.customers = max(10, args.cases // 50)
    if args.cases < 1 or args.customers < 1 or args.interactions < 0:
        raise SystemExit("--cases and --customers must be positive, --interactions not negative")
    return args


def main() -> int:
    args = resolve(build_parser().parse_args())
    if args.dsn:
        dsn = asyncio.run(prepare(args.dsn, args))
    else:
        from evacase.embedded import embedded_postgres

        with embedded_postgres(args.home.resolve()) as server_dsn:
            dsn = asyncio.run(prepare(server_dsn, args))
    sys.stderr.write(f"DATABASE_URL={dsn}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
