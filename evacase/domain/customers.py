"""Customers that backend systems push (PushCase), and token holders who are those customers.

A pushed customer is found by BackendID, else by e-mail address (case-insensitively, among customers only), and
created when new: a users row with `is_pushed` and an ID from the pushed customers' range (10^15 and up; token
subjects stay below it, so the two never collide). What the push tells about the customer is kept in
`customer_profiles` (company details included) and `customer_addresses` (one shipping, one billing).

A customer token whose `backend_id` claim names a pushed customer is that customer: `effective_customer_id`
gives the ID its requests act as. Both sides take the same advisory lock per BackendID (pushes also one per
e-mail address), so a push creating the customer and the token holder's first request cannot miss each other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from evacase.auth import Caller, UserType
from evacase.db import load_queries

SQL = load_queries("customers")

ADDRESS_KINDS = ("shipping", "billing")


@dataclass(frozen=True, slots=True)
class PushedCustomer:
    """What PushCase hands over: the keys it is found by and the columns to store (null clears a column)."""

    backend_id: str | None
    email: str | None
    profile: dict[str, Any]
    # kind -> address columns; None removes that address; a kind left out keeps the stored one.
    addresses: dict[str, dict[str, Any] | None]


async def lock_customer_key(conn: asyncpg.Connection, key: str) -> None:
    await conn.execute(SQL["lock_customer_key"], key)


async def find_customer(
    conn: asyncpg.Connection, backend_id: str | None, email: str | None, trust_unverified_email: bool
) -> asyncpg.Record | None:
    if backend_id:
        found = await conn.fetchrow(SQL["customer_by_backend_id"], backend_id)
        if found is not None:
            return found
    if email:
        return await conn.fetchrow(SQL["customer_by_email"], email, backend_id or None, trust_unverified_email)
    return None


async def upsert_customer(
    conn: asyncpg.Connection, pushed: PushedCustomer, current_id: int | None, *, trust_unverified_email: bool = False
) -> int:
    """The customer's ID: found or created, with the pushed profile and addresses stored. A customer pushed
    without BackendID and e-mail address is the case's current customer (`current_id`), if it has one. A token
    holder is found by e-mail only when its token said the address is verified, or `trust_unverified_email`."""
    backend_id, email = pushed.backend_id or None, pushed.email or None
    # Both keys, BackendID first (as a token holder's first request takes it): no two resolutions of one
    # customer overlap, and no lock cycle can form.
    if backend_id:
        await lock_customer_key(conn, f"backend:{backend_id}")
    if email:
        await lock_customer_key(conn, f"email:{email.lower()}")
    if backend_id or email:
        found = await find_customer(conn, backend_id, email, trust_unverified_email)
    else:
        found = await conn.fetchrow(SQL["customer_by_id"], current_id) if current_id is not None else None
    if found is None:
        customer_id: int = await conn.fetchval(SQL["create_customer"], backend_id)
    else:
        customer_id = found["id"]
        if backend_id and found["is_pushed"] and found["backend_id"] is None:
            await conn.execute(SQL["claim_backend_id"], customer_id, backend_id)
    await conn.execute(SQL["upsert_profile"], customer_id, msgspec.json.encode(pushed.profile).decode())
    for kind, address in pushed.addresses.items():
        if address is None:
            await conn.execute(SQL["delete_address"], customer_id, kind)
        else:
            await conn.execute(SQL["upsert_address"], customer_id, kind, msgspec.json.encode(address).decode())
    return customer_id


async def effective_customer_id(conn: asyncpg.Connection, caller: Caller) -> int:
    """The ID a caller's requests act as: a customer token naming a pushed customer (`backend_id`) acts as that
    customer; everyone else as themselves."""
    if not caller.backend_id or not caller.has_type(UserType.CUSTOMER):
        return caller.user_id
    await lock_customer_key(conn, f"backend:{caller.backend_id}")
    pushed: int | None = await conn.fetchval(SQL["pushed_customer_for"], caller.backend_id)
    return pushed if pushed is not None else caller.user_id
