"""Every named query in evacase/sql prepares against the schema, and every one is used somewhere."""

from __future__ import annotations

import datetime as dt
import random
import re
from importlib import resources
from pathlib import Path

import asyncpg

from evacase.db import load_queries, placeholders
from evacase.messages import iso_ms
from evacase.services import case_list

ROOT = Path(__file__).resolve().parent.parent
# Queries that are templates of fixed fragments (never request text), rendered as their handler renders them.
TEMPLATES = {
    "cases.list_cases": lambda sql: case_list.list_query(
        {"StatusID": 1, "Title": "x", "CustomerID": 2, "Priority": 0}, [1], forward=True, limit=26
    )[0]
}
DOMAINS = sorted(p.stem for p in resources.files("evacase.sql").iterdir() if p.name.endswith(".sql"))  # type: ignore[attr-defined]


async def test_every_named_query_prepares_against_the_schema(db: asyncpg.Connection) -> None:
    failures = []
    for domain in DOMAINS:
        for name, sql in load_queries(domain).items():
            render = TEMPLATES.get(f"{domain}.{name}")
            try:
                await db.prepare(render(sql) if render else sql)
            except asyncpg.PostgresError as exc:
                failures.append(f"{domain}.{name}: {exc}")
    assert failures == []


def test_every_named_query_is_used() -> None:
    code = "\n".join(p.read_text() for p in (ROOT / "evacase").rglob("*.py"))
    unused = [
        f"{domain}.{name}"
        for domain in DOMAINS
        for name in load_queries(domain)
        if not re.search(rf"[\"']{name}[\"']", code)
        and not re.search(rf"fetch_page\(\s*\w+,\s*[\"']{re.sub('_(after|before)$', '', name)}[\"']", code)
    ]
    assert unused == []


def test_statements_of_more_than_four_parameters_are_called_by_keyword() -> None:
    code = "\n".join(p.read_text() for p in (ROOT / "evacase").rglob("*.py"))
    undeclared, indexed = [], []
    for domain in DOMAINS:
        queries = load_queries(domain)
        for name, sql in queries.items():
            if placeholders(sql) > 4 and name not in queries.params and f"{domain}.{name}" not in TEMPLATES:
                undeclared.append(f"{domain}.{name}")
            if name in queries.params and re.search(rf"\[[\"']{name}[\"']\]", code):
                indexed.append(f"{domain}.{name}")
    assert (undeclared, indexed) == ([], [])


async def test_the_visibility_function_is_inlined_into_the_plan(db: asyncpg.Connection) -> None:
    # Plain SQL functions are inlined: the planner sees the predicate itself, so the lists keep their indexes.
    rows = await db.fetch(
        "EXPLAIN (VERBOSE) SELECT id FROM cases c"
        " WHERE case_visible(c.assigned_organization_unit_id, c.assignee_id, c.created_by, $1)",
        ([1, 2], 5, ["assigned", "created"]),
    )
    plan = "\n".join(r[0] for r in rows)
    assert "case_visible" not in plan
    assert {"assigned_organization_unit_id", "assignee_id", "created_by"} <= set(re.findall(r"[a-z_]+", plan))


async def test_the_databases_eva_time_formats_as_iso_ms_does(db: asyncpg.Connection) -> None:
    # The list queries format their timestamps in SQL (eva_time); every other response uses messages.iso_ms.
    rng = random.Random(13)
    edges = [
        "0001-01-01 00:00:00+00",
        "9999-12-31 23:59:59.999+00",
        "2024-02-29 23:59:59.999+00",
        "2026-03-29 01:00:00+01",
    ]
    sample = [
        dt.datetime(1, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=rng.randrange(3 * 10**17)) for _ in range(2000)
    ]
    rows = await db.fetch(
        "SELECT t, eva_time(t) AS text FROM (SELECT t::timestamptz(3) AS t FROM unnest($1::timestamptz[]) t"
        " UNION ALL SELECT e::timestamptz(3) FROM unnest($2::text[]) e) x",
        sample,
        edges,
    )
    assert len(rows) == len(sample) + len(edges)
    assert [r["text"] for r in rows] == [iso_ms(r["t"]) for r in rows]
