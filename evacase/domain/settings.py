"""Every setting kept in the `settings` table (absent: the default), shared by every instance: PushCase's
(domain/push_settings.py) and the blobs' lifetime. `evacase settings` shows and changes them."""

from __future__ import annotations

import asyncpg
import msgspec

from evacase.db import load_queries
from evacase.domain.push_settings import PUSH_SETTINGS

SQL = load_queries("settings")

# Minutes a temporary blob (one without OriginalName) lives unless it has an ExpireDate (EVA's name); the insert
# of a blob reads it (sql/blobs.sql, insert_blob).
BLOBS_DEFAULT_LIFETIME = "Blobs:DefaultLifeTime"

SETTINGS: dict[str, bool | int] = {**PUSH_SETTINGS, BLOBS_DEFAULT_LIFETIME: 1440}


def parse_setting(name: str, raw: str) -> bool | int:
    """`raw` as the value of setting `name`; ValueError when it does not fit."""
    default = SETTINGS[name]
    if isinstance(default, bool):
        if raw.lower() not in ("true", "false"):
            raise ValueError(f"{name} takes true or false")
        return raw.lower() == "true"
    if not raw.isdigit() or not 1 <= int(raw) <= 10 * 365 * 24 * 60:
        raise ValueError(f"{name} takes a whole number of minutes from 1 to 5256000")
    return int(raw)


async def read_settings(conn: asyncpg.Connection) -> dict[str, bool | int]:
    rows = await conn.fetch(SQL["get_settings"], list(SETTINGS))
    stored = {r["name"]: msgspec.json.decode(r["value"]) for r in rows}
    return {name: type(default)(stored.get(name, default)) for name, default in SETTINGS.items()}


async def write_setting(conn: asyncpg.Connection, name: str, value: bool | int, user_id: int | None) -> None:
    if name not in SETTINGS:
        raise KeyError(name)
    await conn.execute(SQL["set_setting"], name, msgspec.json.encode(value).decode(), user_id)
