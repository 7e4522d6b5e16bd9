"""Every setting kept in the `settings` table (absent: the default), shared by every instance: PushCase's and the
blobs' lifetime. `evacase settings` shows and changes them; domain/push_settings.py reads PushCase's."""

from __future__ import annotations

from collections.abc import Mapping

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

# Minutes a temporary blob (one without OriginalName) lives unless it has an ExpireDate (EVA's name); the insert
# of a blob reads it (sql/blobs.sql, insert_blob).
BLOBS_DEFAULT_LIFETIME = "Blobs:DefaultLifeTime"

# Minutes after its closing time a customer may still reopen a case (CustomerReopenCase); later: a new case.
CUSTOMER_REOPEN_WINDOW = "Cases:CustomerReopenWindow"

SETTINGS: dict[str, bool | int] = {**PUSH_SETTINGS, BLOBS_DEFAULT_LIFETIME: 1440, CUSTOMER_REOPEN_WINDOW: 14 * 24 * 60}


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


async def read_settings(
    conn: asyncpg.Connection, defaults: Mapping[str, bool | int] = SETTINGS
) -> dict[str, bool | int]:
    """The settings named in `defaults`, stored or default (as the default's type)."""
    rows = await conn.fetch(SQL["get_settings"], list(defaults))
    stored = {r["name"]: msgspec.json.decode(r["value"]) for r in rows}
    return {name: type(default)(stored.get(name, default)) for name, default in defaults.items()}


async def write_setting(conn: asyncpg.Connection, name: str, value: bool | int, user_id: int | None) -> None:
    if name not in SETTINGS:
        raise KeyError(name)
    await conn.execute(SQL["set_setting"], name, msgspec.json.encode(value).decode(), user_id)
