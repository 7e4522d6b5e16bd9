"""A case's contacts (seed 001's notification and technical contacts) and watchers: who is told about the case
besides its customer. A contact is a person (name, e-mail address, phone number) or a known user (`user_id`, a
watcher). Adding the same contact again (same type and the same user, e-mail address or phone number) updates it,
so a retried request never repeats it. Watchers and contacts staff mark so are staff-only: customers never see
them, and adding or removing them writes no ledger line (ledger lines are shown to customers)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

import asyncpg
import msgspec

from evacase.db import load_queries
from evacase.domain.changes import record_case_change, touch_case
from evacase.errors import CaseContactNotFound, CaseTooManyContacts, ValidationFailed

SQL = load_queries("contacts")

MAX_CONTACTS_PER_CASE = 20
# One @, no spaces, a dot in the domain; bounded by the wire's 254 characters (so the scan is short).
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_PHONE = re.compile(r"\+?[0-9]{6,15}")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


class ContactLike(Protocol):
    @property
    def Type(self) -> str: ...
    @property
    def UserID(self) -> int | None: ...
    @property
    def FirstName(self) -> str | None: ...
    @property
    def LastName(self) -> str | None: ...
    @property
    def EmailAddress(self) -> str | None: ...
    @property
    def PhoneNumber(self) -> str | None: ...
    @property
    def IsStaffOnly(self) -> bool: ...


def contact_row(contact: ContactLike, *, by_customer: bool, field: str = "Contact") -> dict[str, Any]:
    """A contact as stored: e-mail address trimmed and checked, phone number without separators (E.164-ish: an
    optional +, 6 to 15 digits), a user, an e-mail address or a phone number at least. Customers add people, not
    users, and cannot hide a contact from themselves."""
    if by_customer and (contact.UserID is not None or contact.IsStaffOnly):
        raise ValidationFailed(f"{field}: customers add a contact by name, e-mail address and phone number.")
    email = contact.EmailAddress.strip() if contact.EmailAddress and contact.EmailAddress.strip() else None
    if email is not None and not _EMAIL.fullmatch(email):
        raise ValidationFailed(f"{field}.EmailAddress: not an e-mail address.", data={"Field": f"{field}.EmailAddress"})
    phone = _PHONE_SEPARATORS.sub("", contact.PhoneNumber) if contact.PhoneNumber else None
    if phone is not None and not _PHONE.fullmatch(phone):
        raise ValidationFailed(
            f"{field}.PhoneNumber: an optional + and 6 to 15 digits (spaces, dashes, dots and brackets allowed).",
            data={"Field": f"{field}.PhoneNumber"},
        )
    if contact.UserID is None and email is None and phone is None:
        raise ValidationFailed(f"{field}: a UserID, an EmailAddress or a PhoneNumber is required.")
    return {
        "type": contact.Type,
        "user_id": contact.UserID,
        "first_name": contact.FirstName,
        "last_name": contact.LastName,
        "email_address": email,
        "phone_number": phone,
        "is_staff_only": contact.IsStaffOnly or contact.UserID is not None,
    }


def contact_key(row: dict[str, Any]) -> tuple[str, str]:
    """What makes two contacts of a case the same (case_contacts.contact_key, with the type)."""
    if row["user_id"] is not None:
        return row["type"], f"user:{row['user_id']}"
    if row["email_address"] is not None:
        return row["type"], f"email:{row['email_address'].lower()}"
    return row["type"], f"phone:{row['phone_number']}"


def contacts_json(contacts: Sequence[ContactLike] | None, *, by_customer: bool) -> str | None:
    """The contacts of a new case as the insert statements take them (a JSON array; the last of equal ones wins);
    None for none."""
    if not contacts:
        return None
    rows = {contact_key(row): row for row in (contact_row(c, by_customer=by_customer) for c in contacts)}
    return msgspec.json.encode(list(rows.values())).decode()


async def add_contacts(conn: asyncpg.Connection, case_id: int, contacts: str | None, actor_id: int) -> list[int]:
    """Add (or update) contacts on a case whose lock the caller holds: their IDs. Refused when the case would hold
    more than MAX_CONTACTS_PER_CASE. A ledger line for each new contact customers see."""
    if contacts is None:
        return []
    rows = await conn.fetch(SQL["add_contacts"], case_id, contacts, actor_id)
    if rows and rows[0]["stored_before"] + sum(r["inserted"] for r in rows) > MAX_CONTACTS_PER_CASE:
        raise CaseTooManyContacts(f"A case holds at most {MAX_CONTACTS_PER_CASE} contacts.")
    lines = [f"Case {r['type'].lower()} contact added" for r in rows if r["inserted"] and not r["is_staff_only"]]
    if lines:
        await record_case_change(conn, case_id, actor_id, lines)
    elif rows:
        await touch_case(conn, case_id, actor_id)
    return [r["id"] for r in rows]


async def remove_contact(
    conn: asyncpg.Connection, case_id: int, contact_id: int, actor_id: int, *, by_customer: bool
) -> None:
    """Remove a contact of a case whose lock the caller holds; customers only ones they see."""
    row = await conn.fetchrow(SQL["remove_contact"], case_id, contact_id, by_customer)
    if row is None:
        raise CaseContactNotFound()
    if row["is_staff_only"]:
        await touch_case(conn, case_id, actor_id)
    else:
        await record_case_change(conn, case_id, actor_id, [f"Case {row['type'].lower()} contact removed"])


async def list_contacts(conn: asyncpg.Connection, case_id: int, *, for_customer: bool) -> list[asyncpg.Record]:
    """The case's contacts in the order they were added (a customer's view: not the staff-only ones)."""
    rows: list[asyncpg.Record] = await conn.fetch(SQL["case_contacts"], case_id, for_customer)
    return rows


async def contacts_by_case(
    conn: asyncpg.Connection, case_ids: list[int], *, for_customer: bool
) -> dict[int, list[asyncpg.Record]]:
    """The contacts of several cases (as list_contacts gives each), by case; cases without any are left out."""
    found: dict[int, list[asyncpg.Record]] = {}
    if case_ids:
        for row in await conn.fetch(SQL["contacts_of_cases"], case_ids, for_customer):
            found.setdefault(row["case_id"], []).append(row)
    return found
