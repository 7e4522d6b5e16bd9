"""Data survives upgrades: a database built from the first landed schema and migrated equals a fresh one,
and start-up migration is idempotent (seeds are written once)."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from evacase.migrate import migrate, migrations, schema_version
from tests.conftest import dsn_for

FIRST_LANDED_SCHEMA = Path(__file__).parent / "schema_history" / "0001_schema.sql"

SCHEMA_QUERY = """
SELECT 'column' AS kind, table_name || '.' || column_name AS name,
       concat_ws(' ', data_type, datetime_precision, is_nullable, column_default, is_identity) AS definition
FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'function', p.proname, pg_get_functiondef(p.oid)
FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
ORDER BY 1, 2
"""


async def fresh_database(admin_dsn: str, name: str) -> asyncpg.Connection:
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return await asyncpg.connect(dsn_for(admin_dsn, name))


async def test_schema_sql_records_the_latest_migration_number() -> None:
    numbers = [n for n, _ in migrations()]
    assert schema_version() == max(numbers, default=1)
    assert numbers == sorted(set(numbers)) and all(n > 1 for n in numbers)


async def test_a_database_migrated_from_the_first_landed_schema_equals_a_fresh_one(pg_admin_dsn: str) -> None:
    old = await fresh_database(pg_admin_dsn, "evacase_migrated")
    new = await fresh_database(pg_admin_dsn, "evacase_fresh")
    try:
        await old.execute(FIRST_LANDED_SCHEMA.read_text())
        assert await migrate(old) == schema_version()
        assert await migrate(new) == schema_version()
        migrated = [tuple(r) for r in await old.fetch(SCHEMA_QUERY)]
        fresh = [tuple(r) for r in await new.fetch(SCHEMA_QUERY)]
        assert migrated == fresh
        assert len(fresh) > 50
    finally:
        await old.close()
        await new.close()


async def test_migrating_again_changes_nothing_and_seeds_are_not_rewritten(db: asyncpg.Connection) -> None:
    await db.execute("UPDATE case_topics SET is_deleted = true WHERE id = 7")
    await db.execute("DELETE FROM case_topics WHERE id = 6")
    before = [tuple(r) for r in await db.fetch("SELECT * FROM case_topics ORDER BY id")]
    assert await migrate(db) == schema_version()
    assert await migrate(db) == schema_version()
    after = [tuple(r) for r in await db.fetch("SELECT * FROM case_topics ORDER BY id")]
    assert after == before and len(after) == 6


async def test_a_fresh_database_holds_the_seeded_topics_and_system_statuses(db: asyncpg.Connection) -> None:
    topics = await db.fetch("SELECT id, name, parent_id FROM case_topics ORDER BY id")
    assert [(r["id"], r["name"], r["parent_id"]) for r in topics] == [
        (1, "Products", None),
        (2, "Shipping", None),
        (3, "Payment", None),
        (4, "Returns", None),
        (5, "Account", None),
        (6, "Promotions", None),
        (7, "Other", None),
    ]
    statuses = await db.fetch("SELECT id, name, is_closed, is_system FROM case_statuses ORDER BY id")
    assert [tuple(r) for r in statuses] == [
        (1, "New", False, True),
        (2, "InProgress", False, True),
        (3, "Completed", True, True),
        (4, "Cancelled", True, True),
    ]
    new_topic = await db.fetchval("INSERT INTO case_topics (name) VALUES ('Eighth') RETURNING id")
    assert new_topic == 8


async def test_a_database_that_ran_an_early_0005_gets_the_visibility_function_and_the_system_user(
    pg_admin_dsn: str,
) -> None:
    # Migration 0005 gained both after some databases had run it (the benchmark's did); 0006 repairs them.
    conn = await fresh_database(pg_admin_dsn, "evacase_early_0005")
    try:
        await conn.execute(FIRST_LANDED_SCHEMA.read_text())
        for number, sql in migrations():
            if number <= 5:
                await conn.execute(sql)
        await conn.execute("DROP FUNCTION visible_to_units(bigint, bigint[])")
        await conn.execute("DELETE FROM users WHERE id = 1000000000000000")
        assert await migrate(conn) == schema_version()
        # (0017 replaced it with case_visible, which keeps its rule)
        viewer = "ROW(ARRAY[2]::bigint[], 5, NULL)::case_viewer"
        assert await conn.fetchval(f"SELECT case_visible(1, NULL, NULL, {viewer})") is False
        assert await conn.fetchval("SELECT first_name FROM users WHERE id = 1000000000000000") == "evacase"
    finally:
        await conn.close()


async def test_the_suite_works_as_a_role_that_may_create_databases_and_is_no_superuser(
    pg_admin_dsn: str, db: asyncpg.Connection
) -> None:
    # Everything above and every other test ran as this role: the schema, the migrations, pg_trgm (a trusted
    # extension), the clones of the template — what an operator's "may create databases" role allows.
    role = await db.fetchrow(
        "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
    )
    assert (role["rolsuper"], role["rolcreatedb"], role["rolcreaterole"]) == (False, True, False), dict(role)
    assert (
        await db.fetchval("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")
        == (role["rolname"])
    )
    assert await db.fetchval("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'") == "pg_trgm"
