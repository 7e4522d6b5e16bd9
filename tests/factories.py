"""Arrange steps shared by tests: rows written straight to the database, the way the services would leave them."""

from __future__ import annotations

import asyncpg


async def a_user(
    db: asyncpg.Connection, user_id: int, user_type: int = 2, first: str = "Jane", last: str = "Doe"
) -> int:
    await db.execute(
        "INSERT INTO users (id, user_type, first_name, last_name) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        user_id,
        user_type,
        first,
        last,
    )
    return user_id


async def a_case(
    db: asyncpg.Connection, *, customer_id: int, status_id: int = 1, topic_id: int = 1, title: str = "A case"
) -> int:
    """A case of `customer_id` (recorded if new) with its two creation lines, in `status_id` (an open one)."""
    await a_user(db, customer_id)
    case_id: int = await db.fetchval(
        "INSERT INTO cases (customer_id, topic_id, status_id, title) VALUES ($1, $2, $3, $4) RETURNING id",
        customer_id,
        topic_id,
        status_id,
        title,
    )
    await db.execute(
        "INSERT INTO interactions (case_id, type, text, created_by) VALUES ($1, 2, $2, $3), ($1, 2, $4, $3)",
        case_id,
        "Case created with priority `Low`",
        customer_id,
        "Case status set to `New`",
    )
    return case_id
