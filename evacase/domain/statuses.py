"""Rules of case statuses: system statuses keep their name and their open/closed nature, and a status cases use
neither switches between open and closed nor goes away (checked under the status's lock, after every move into
it has committed or waits)."""

from __future__ import annotations

from typing import Any

import asyncpg

from evacase.db import load_queries
from evacase.domain import locks
from evacase.errors import (
    CaseStatusCannotChangeIsClosedOfStatusInUse,
    CaseStatusInternalStatusCannotBeDeleted,
    CaseStatusIsClosedOfInternalStatusCannotBeModified,
    CaseStatusNameOfInternalStatusCannotBeModified,
    CaseStatusNotFound,
    CaseStatusStatusInUse,
)

SQL = load_queries("statuses")

# What a status's editable fields are called in the table.
COLUMNS = (
    "name",
    "description",
    "backend_id",
    "color",
    "action",
    "is_closed",
    "script_id",
    "pauses_service_level",
    "auto_close_after_hours",
    "auto_close_status_id",
    "reopen_status_id",
)


async def update_status(conn: asyncpg.Connection, status_id: int, changes: dict[str, Any]) -> None:
    """Change the columns in `changes` (the others kept)."""
    row, in_use = await locks.lock_status(conn, status_id)
    if row is None:
        raise CaseStatusNotFound()
    new = {column: changes.get(column, row[column]) for column in COLUMNS}
    if row["is_system"] and new["name"] != row["name"]:
        raise CaseStatusNameOfInternalStatusCannotBeModified()
    if new["is_closed"] != row["is_closed"]:
        if row["is_system"]:
            raise CaseStatusIsClosedOfInternalStatusCannotBeModified()
        if in_use:
            raise CaseStatusCannotChangeIsClosedOfStatusInUse()
    await conn.execute(*SQL.bound("update_status", status_id=status_id, **new))


async def delete_status(conn: asyncpg.Connection, status_id: int) -> None:
    row, in_use = await locks.lock_status(conn, status_id)
    if row is None:
        raise CaseStatusNotFound()
    if row["is_system"]:
        raise CaseStatusInternalStatusCannotBeDeleted()
    if in_use:
        raise CaseStatusStatusInUse()
    await conn.execute(SQL["delete_status"], status_id)
