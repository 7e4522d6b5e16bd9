"""Just-in-time user records: callers are written to `users` on first sight and when their profile changes."""

from __future__ import annotations

import asyncpg

from evacase.auth import Caller
from evacase.db import load_queries
from evacase.domain.customers import effective_customer_id

SQL = load_queries("users")


class KnownUsers:
    """Profiles this process has already stored, with the ID each caller acts as (a customer token may name a
    pushed customer), so read paths do no write (and no round trip) per request."""

    LIMIT = 100_000

    def __init__(self) -> None:
        self._stored: dict[int, tuple[tuple[object, ...], int]] = {}

    def acting_id(self, caller: Caller) -> int | None:
        """The ID the caller acts as, or None when its profile still has to be recorded."""
        stored = self._stored.get(caller.user_id)
        if stored is None or stored[0] != caller.profile:
            return None
        return stored[1]

    def remember(self, caller: Caller, acting_id: int) -> None:
        if len(self._stored) >= self.LIMIT:
            self._stored.clear()
        self._stored[caller.user_id] = (caller.profile, acting_id)


async def find_user(conn: asyncpg.Connection, user_id: int) -> asyncpg.Record | None:
    """A user evacase knows (ID, type, names, e-mail)."""
    return await conn.fetchrow(SQL["get_user"], user_id)


async def record_user(conn: asyncpg.Connection, caller: Caller) -> int:
    """Store the caller's profile (nothing is written when it is unchanged); the ID its requests act as."""
    user_type, first_name, last_name, email, custom_id, backend_id, email_verified = caller.profile
    await conn.execute(
        *SQL.bound(
            "upsert_user",
            user_id=caller.user_id,
            user_type=user_type,
            first_name=first_name,
            last_name=last_name,
            email_address=email,
            custom_id=custom_id,
            backend_id=backend_id,
            email_verified=email_verified,
        )
    )
    return await effective_customer_id(conn, caller)


async def current_user(conn: asyncpg.Connection, user_id: int) -> asyncpg.Record | None:
    """What evacase holds of user `user_id` (GetCurrentUser): the users row and a pushed customer's phone."""
    return await conn.fetchrow(SQL["current_user"], user_id)
