"""Bring a database to the current schema: `schema.sql` for a new one, numbered migrations for an older one."""

from __future__ import annotations

import asyncio
import re
from importlib import resources

import asyncpg
import structlog

from evacase.db import connect_options

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


# What a database that is not up yet answers: nothing listening, a server starting or shutting down, a
# connection that broke. Anything else (a wrong password, a missing database, a malformed URL) is fatal.
_NOT_UP_YET = (OSError, asyncio.TimeoutError, asyncpg.CannotConnectNowError, asyncpg.ConnectionDoesNotExistError)


class DatabaseUnusable(Exception):
    """The database answered, but cannot be used as configured: one line says why."""


async def wait_for_database(dsn: str, *, max_delay: float = 10.0, give_up_after: float | None = None) -> None:
    """Return once a connection to `dsn` succeeds, retrying with exponential backoff (one log line per try),
    so that a service started before its database (compose, systemd) waits instead of crash-looping."""
    delay, waited, attempt = 0.5, 0.0, 1
    while True:
        try:
            conn = await asyncpg.connect(dsn, timeout=5, **connect_options())
        except _NOT_UP_YET as exc:
            if give_up_after is not None and waited >= give_up_after:
                raise DatabaseUnusable(f"the database did not answer within {give_up_after:g} s ({exc})") from None
            log.warning(
                "database_not_ready", attempt=attempt, retry_in_s=delay, error=type(exc).__name__, detail=str(exc)[:200]
            )
            await asyncio.sleep(delay)
            waited += delay
            delay, attempt = min(delay * 2, max_delay), attempt + 1
            continue
        except (asyncpg.PostgresError, ValueError) as exc:
            raise DatabaseUnusable(f"cannot use the database: {type(exc).__name__}: {exc}") from None
        await conn.close()
        return


async def migrate_dsn(dsn: str) -> int:
    conn = await asyncpg.connect(dsn, **connect_options())
    try:
        return await migrate(conn)
    finally:
        await conn.close()
