"""Just-in-time user records: callers are written to `users` on first sight and when their profile changes."""

from __future__ import annotations

import asyncpg

from evacase.auth import Caller
from evacase.db import load_queries

SQL = load_queries("users")


class KnownUsers:
    """Profiles this process has already stored, so read paths do no write (and no round trip) per request."""

    LIMIT = 100_000

    def __init__(self) -> None:
        self._stored: dict[int, tuple[object, ...]] = {}

    def needs_write(self, caller: Caller) -> bool:
        return self._stored.get(caller.user_id) != caller.profile

    def remember(self, caller: Caller) -> None:
        if len(self._stored) >= self.LIMIT:
            self._stored.clear()
        self._stored[caller.user_id] = caller.profile


async def record_user(conn: asyncpg.Connection, caller: Caller) -> None:
    await conn.execute(SQL["upsert_user"], caller.user_id, *caller.profile)
