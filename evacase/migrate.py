"""Bring a database to the current schema: `schema.sql` for a new one, numbered migrations for an older one."""

from __future__ import annotations

import re
from importlib import resources

import asyncpg
import structlog

log = structlog.get_logger("evacase.migrate")

_LOCK_KEY = 0x6576_6163  # "evac": one migrator at a time across instances
_MIGRATION = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def schema_sql() -> str:
    return resources.files("evacase").joinpath("schema.sql").read_text(encoding="utf-8")


def migrations() -> list[tuple[int, str]]:
    """(number, SQL) of every file in evacase/migrations, in order."""
    found: list[tuple[int, str]] = []
    folder = resources.files("evacase").joinpath("migrations")
    if not folder.is_dir():  # an installed package without any migration yet
        return found
    for entry in folder.iterdir():
        match = _MIGRATION.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    return sorted(found)


def schema_version() -> int:
    match = re.search(r"INSERT INTO schema_version \(version\) VALUES \((\d+)\)", schema_sql())
    assert match, "schema.sql must record its version"
    return int(match.group(1))


async def migrate(conn: asyncpg.Connection) -> int:
    """Idempotent: a second call changes nothing. Returns the version the database is at."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
        if not exists:
            await conn.execute(schema_sql())
            version = schema_version()
            log.info("schema_created", version=version)
            return version
        version = await conn.fetchval("SELECT version FROM schema_version")
        for number, sql in migrations():
            if number > version:
                await conn.execute(sql)
                await conn.execute("UPDATE schema_version SET version = $1", number)
                log.info("migration_applied", version=number)
                version = number
        return int(version)


async def migrate_dsn(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()
