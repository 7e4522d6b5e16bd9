"""evacase served by uvicorn in a thread, on a real socket, on a database cloned for it (the tests that need
what clients see: Schemathesis, the browser)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import asyncpg
import uvicorn

from evacase.app import create_app
from tests.conftest import TEMPLATE, dsn_for, make_settings


def _admin(admin_dsn: str, sql: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@contextlib.contextmanager
def live_server(admin_dsn: str, purpose: str, **overrides: object) -> Iterator[tuple[str, str]]:
    """(base URL, database DSN) of evacase on a fresh clone of the template, with `overrides` to its settings."""
    name = f"evacase_{purpose}_{os.getpid()}"
    _admin(admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _admin(admin_dsn, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    dsn = dsn_for(admin_dsn, name)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(make_settings(dsn, **overrides)), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", dsn
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        _admin(admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
