"""PushCase's settings, kept in the `settings` table (absent: the default), shared by every instance."""

from __future__ import annotations

import asyncpg
import msgspec

from evacase.db import load_queries

SQL = load_queries("settings")

# Setting name -> default. EVA's names; the guide's defaults.
PUSH_SETTINGS: dict[str, bool] = {
    "PushCases:AutoCreateTopic": True,
    "PushCases:AutoCreateStatus": True,
    # evacase's own: match a pushed customer's e-mail to a token holder whose token did not say it was verified.
    "PushCases:MatchUnverifiedEmail": False,
}


async def read_push_settings(conn: asyncpg.Connection) -> dict[str, bool]:
    """Every push setting, stored or default."""
    rows = await conn.fetch(SQL["get_settings"], list(PUSH_SETTINGS))
    stored = {r["name"]: msgspec.json.decode(r["value"]) for r in rows}
    return {name: bool(stored.get(name, default)) for name, default in PUSH_SETTINGS.items()}


async def write_push_setting(conn: asyncpg.Connection, name: str, value: bool, user_id: int | None) -> None:
    if name not in PUSH_SETTINGS:
        raise KeyError(name)
    await conn.execute(SQL["set_setting"], name, msgspec.json.encode(value).decode(), user_id)
