"""The case ledger: every change to a case is written as a Ledger interaction (Type 2) in the same transaction."""

from __future__ import annotations

import asyncpg

from evacase.db import load_queries

SQL = load_queries("ledger")

PRIORITY_NAMES = {0: "Low", 1: "Medium", 2: "High", 9: "Critical"}


class InteractionType:
    COMMUNICATION = 0
    NOTE = 1
    LEDGER = 2
    EMAIL = 3
    HTTP_CALLBACK = 4


# What a customer may see of a case's interactions: never private notes (1) nor callbacks (4).
CUSTOMER_VISIBLE_TYPES = (InteractionType.COMMUNICATION, InteractionType.LEDGER, InteractionType.EMAIL)


def related_items_line(count: int, change: str) -> str:
    """`2 related items added to the case`, `1 related item removed from the case`."""
    return f"{count} related item{'s' if count > 1 else ''} {change} the case"


async def write_ledger(conn: asyncpg.Connection, case_id: int, user_id: int, lines: list[str]) -> None:
    """Record `lines` on the case's ledger and mark the case modified by `user_id` (nothing if no lines)."""
    if lines:
        await conn.execute(SQL["add_ledger_lines"], case_id, user_id, lines)
