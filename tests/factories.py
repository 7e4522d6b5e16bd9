"""Arrange steps shared by tests: rows written straight to the database, the way the services would leave them."""

from __future__ import annotations

import hashlib

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


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24  # enough of a PNG for its signature


async def a_stored_blob(
    db: asyncpg.Connection,
    owner: int,
    guid: str,
    *,
    content: bytes = PNG,
    mime_type: str = "image/png",
    owner_type: int = 2,
    name: str | None = None,
) -> str:
    """A blob `owner` stored (kept in PostgreSQL), as StoreBlob leaves it."""
    await a_user(db, owner, owner_type)
    await db.execute(
        """INSERT INTO blobs (id, original_name, mime_type, store, size, sha256, created_by)
           VALUES ($1, $2, $3, 'postgresql', $4, $5, $6)""",
        guid,
        name,
        mime_type,
        len(content),
        hashlib.sha256(content).digest(),
        owner,
    )
    await db.execute("INSERT INTO blob_chunks (blob_id, n, data) VALUES ($1, 0, $2)", guid, content)
    return guid
