"""PushCase's settings (domain/settings.py keeps every setting), read as booleans."""

from __future__ import annotations

import asyncpg

from evacase.domain.settings import PUSH_SETTINGS, read_settings, write_setting

__all__ = ["PUSH_SETTINGS", "read_push_settings", "write_push_setting"]


async def read_push_settings(conn: asyncpg.Connection) -> dict[str, bool]:
    """Every push setting, stored or default."""
    return {name: bool(value) for name, value in (await read_settings(conn, PUSH_SETTINGS)).items()}


async def write_push_setting(conn: asyncpg.Connection, name: str, value: bool, user_id: int | None) -> None:
    if name not in PUSH_SETTINGS:
        raise KeyError(name)
    await write_setting(conn, name, value, user_id)
