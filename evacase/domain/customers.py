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


# A customer as its lookups give it: ID, whether pushed, BackendID.
Found = tuple[int, bool, str | None]


async def find_customer(
    conn: asyncpg.Connection,
    backend_id: str | None,
    email: str | None,
    trust_unverified_email: bool,
    by_backend_id: Found | msgspec.UnsetType | None = msgspec.UNSET,
) -> Found | None:
    """By BackendID (`by_backend_id`: what a lookup already found for it), else by e-mail address."""
    if backend_id:
        if by_backend_id is msgspec.UNSET:
            row = await conn.fetchrow(SQL["customer_by_backend_id"], backend_id)
            by_backend_id = (row["id"], row["is_pushed"], row["backend_id"]) if row is not None else None
        if by_backend_id is not None:
            return by_backend_id
    if email:
        row = await conn.fetchrow(SQL["customer_by_email"], email, backend_id or None, trust_unverified_email)
        return (row["id"], row["is_pushed"], row["backend_id"]) if row is not None else None
    return None


def customer_keys(pushed: PushedCustomer | object) -> list[str]:
    """The advisory-lock keys of a pushed customer, BackendID first (as a token holder's first request takes it):
    no two resolutions of one customer overlap, and no lock cycle can form. Nothing for anything else."""
    if not isinstance(pushed, PushedCustomer):
        return []
    keys = [f"backend:{pushed.backend_id}"] if pushed.backend_id else []
    return [*keys, f"email:{pushed.email.lower()}"] if pushed.email else keys


async def upsert_customer(
    conn: asyncpg.Connection,
    pushed: PushedCustomer,
    current_id: int | None,
    *,
    trust_unverified_email: bool = False,
    by_backend_id: Found | msgspec.UnsetType | None = msgspec.UNSET,
    stored_profile: str | None = None,
) -> int:
    """The customer's ID: found or created, with the pushed profile and addresses stored; the caller holds the
    locks of `customer_keys(pushed)`. A customer pushed without BackendID and e-mail address is the case's current
    customer (`current_id`), if it has one. A token holder is found by e-mail only when its token said the address
    is verified, or `trust_unverified_email`; `by_backend_id`: what a lookup under the locks already found for
    the BackendID, and `stored_profile` that customer's stored profile (JSON): a profile the push leaves as it is
    is not written again."""
    backend_id, email = pushed.backend_id or None, pushed.email or None
    found: Found | None = None
    if backend_id or email:
        found = await find_customer(conn, backend_id, email, trust_unverified_email, by_backend_id)
    elif current_id is not None:
        row = await conn.fetchrow(SQL["customer_by_id"], current_id)
        found = (row["id"], row["is_pushed"], row["backend_id"]) if row is not None else None
    if found is None:
        customer_id: int = await conn.fetchval(SQL["create_customer"], backend_id)
    else:
        customer_id, is_pushed, found_backend_id = found
        if backend_id and is_pushed and found_backend_id is None:
            await conn.execute(SQL["claim_backend_id"], customer_id, backend_id)
    unchanged = found is not None and found is by_backend_id and profile_unchanged(pushed.profile, stored_profile)
    if not unchanged:
        await conn.execute(SQL["upsert_profile"], customer_id, msgspec.json.encode(pushed.profile).decode())
    for kind, address in pushed.addresses.items():
        if address is None:
            await conn.execute(SQL["delete_address"], customer_id, kind)
        else:
            await conn.execute(SQL["upsert_address"], customer_id, kind, msgspec.json.encode(address).decode())
    return customer_id


def profile_unchanged(pushed: dict[str, Any], stored_json: str | None) -> bool:
    """Whether every pushed profile field already holds the pushed value (as stored, in JSON)."""
    if stored_json is None:
        return False
    stored = msgspec.json.decode(stored_json)
    return all(key in stored and stored[key] == value for key, value in pushed.items())


async def effective_customer_id(conn: asyncpg.Connection, caller: Caller) -> int:
    """The ID a caller's requests act as: a customer token naming a pushed customer (`backend_id`) acts as that
    customer; everyone else as themselves."""
    if not caller.backend_id or not caller.has_type(UserType.CUSTOMER):
        return caller.user_id
    await lock_customer_key(conn, f"backend:{caller.backend_id}")
    pushed: int | None = await conn.fetchval(SQL["pushed_customer_for"], caller.backend_id)
    return pushed if pushed is not None else caller.user_id
