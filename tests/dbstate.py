"""Read what the database holds, to assert exact state and that a refused request changed nothing."""

from __future__ import annotations

import re
from typing import Any

import asyncpg

TABLES = (
    "users",
    "customer_profiles",
    "customer_addresses",
    "settings",
    "organization_units",
    "orders",
    "case_topics",
    "case_statuses",
    "cases",
    "interactions",
    "case_blobs",
    "interaction_blobs",
    "case_related_items",
    "custom_fields",
    "case_custom_field_values",
    "idempotency_keys",
    "case_contacts",
    "case_tags",
    "case_links",
)
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def snapshot(db: asyncpg.Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in a stable order."""
    state = {}
    for table in TABLES:
        rows = await db.fetch(f"SELECT * FROM {table} ORDER BY 1, 2")
        state[table] = [dict(r) for r in rows]
    return state


async def fingerprint(db: asyncpg.Connection) -> list[tuple[str, int, int]]:
    """Per table, its row count and newest row version (xmin): any insert, update or delete changes it. One
    cheap query, for checking that thousands of refused requests wrote nothing."""
    query = " UNION ALL ".join(f"SELECT '{t}', count(*), coalesce(max(xmin::text::bigint), 0) FROM {t}" for t in TABLES)
    return [tuple(r) for r in await db.fetch(query)]


async def ledger(db: asyncpg.Connection, case_id: int) -> list[str]:
    rows = await db.fetch("SELECT text FROM interactions WHERE case_id = $1 AND type = 2 ORDER BY id", case_id)
    return [r["text"] for r in rows]


def normalized(value: Any) -> Any:
    """The body with its own IDs (`ID`, `CaseID`) and times replaced by placeholders, after checking their form."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("ID", "CaseID"):
                assert isinstance(item, int) and item > 0, (key, item)
                out[key] = "<id>"
            elif key.endswith("Time"):
                assert isinstance(item, str) and ISO_MS.match(item), (key, item)
                out[key] = "<time>"
            else:
                out[key] = normalized(item)
        return out
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value
