"""Idempotency-Key (as Stripe and Zendesk have it; EVA has none): a writing request sent again with the same key
by the same caller gets the first answer again and changes nothing.

The key is claimed in the request's own transaction, before the handler runs, and the answer is stored in that
same transaction: either both the effect and its answer are committed, or neither (a refused or failed request
leaves no trace, so its retry runs afresh). A concurrent request with the same key waits on the claim until the
first one ends, then replays its answer. The same key with another request (service or body) is a 409.
Keys are per caller (the token's `sub`) and kept `ttl` seconds (EVACASE_IDEMPOTENCY_TTL_HOURS); an expired key
may be used again, and a periodic purge deletes expired ones."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import asyncpg
import msgspec

from evacase.db import load_queries
from evacase.errors import (
    IdempotencyInvalidKey,
    IdempotencyKeyReusedWithDifferentRequest,
    IdempotencyRequestInProgress,
)

SQL = load_queries("idempotency")
MAX_KEY_LENGTH = 255
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Replay:
    """The stored answer to a request made before with the same key."""

    status: int
    body: bytes


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise IdempotencyInvalidKey(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.", data={"Header": "Idempotency-Key"}
        )
    return key


def request_hash(service: str, request: msgspec.Struct) -> bytes:
    """What makes two requests the same: the service and the decoded request (whitespace, key order and
    unknown fields do not count)."""
    return hashlib.sha256(service.encode() + b"\x00" + _encoder.encode(request)).digest()


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    user_id: int
    key: str
    service: str
    hash: bytes

    async def claim(self, conn: asyncpg.Connection, ttl_seconds: float) -> Replay | None:
        """None when this request is the key's first (it then runs and `store`s its answer); else the answer to
        replay. In the request's transaction."""
        claimed = await conn.fetchval(
            *SQL.bound(
                "claim_key",
                user_id=self.user_id,
                key=self.key,
                service=self.service,
                request_hash=self.hash,
                ttl_seconds=ttl_seconds,
            )
        )
        if claimed:
            return None
        row = await conn.fetchrow(SQL["stored_answer"], self.user_id, self.key)
        if row is None or row["status"] is None:  # a claim that ended between the two statements: rare
            raise IdempotencyRequestInProgress()
        if row["service"] != self.service or bytes(row["request_hash"]) != self.hash:
            raise IdempotencyKeyReusedWithDifferentRequest()
        return Replay(row["status"], bytes(row["body"]))

    async def store(self, conn: asyncpg.Connection, status: int, body: bytes) -> None:
        await conn.execute(SQL["store_answer"], self.user_id, self.key, status, body)


async def purge_expired(conn: asyncpg.Connection, batch: int = 1000) -> int:
    """Delete one batch of expired keys; how many were deleted."""
    result: str = await conn.execute(SQL["purge_expired"], batch)
    return int(result.split()[-1])
