"""Tags on cases: what a tag is once normalised, and how many a case holds."""

from __future__ import annotations

import re
import unicodedata

import asyncpg

from evacase.auth import Caller
from evacase.db import load_queries
from evacase.domain.cases import lock_staff_case
from evacase.domain.changes import touch_case
from evacase.errors import CaseTooManyTags, ValidationFailed

SQL = load_queries("tags")

MAX_TAG_LENGTH = 50
MAX_TAGS_PER_CASE = 50
# Letters, digits and marks of any script, and - _ . : / # between them; spaces become "-".
_ALLOWED = re.compile(r"[\w\-.:/#]+")
_SPACES = re.compile(r"\s+")


def normalized_tag(raw: str, field: str = "Tags") -> str:
    """A tag as stored and compared: NFKC, lower case, outer spaces trimmed, inner runs of spaces as one "-";
    1 to 50 characters of letters, digits and - _ . : / #. Anything else is a 400 naming `field`."""
    tag = _SPACES.sub("-", unicodedata.normalize("NFKC", raw).strip().lower())
    if not 1 <= len(tag) <= MAX_TAG_LENGTH or not _ALLOWED.fullmatch(tag):
        raise ValidationFailed(
            f"{field}: a tag is 1 to {MAX_TAG_LENGTH} letters, digits and - _ . : / # (spaces become -)."
        )
    return tag


def normalized_tags(raw: list[str]) -> list[str]:
    """Each tag normalised, duplicates dropped, in the order given."""
    return list(dict.fromkeys(normalized_tag(t) for t in raw))


async def add_tags(conn: asyncpg.Connection, actor: Caller, case_id: int, tags: list[str]) -> None:
    """Add normalised tags to a case the actor may see (closed too, never archived); those it has stay. Refused
    beyond MAX_TAGS_PER_CASE. No ledger line (customers never see tags): the case is marked modified."""
    await lock_staff_case(conn, actor, case_id, closed_ok=True)
    row = await conn.fetchrow(SQL["add_tags"], case_id, tags, actor.user_id)
    if row["stored_before"] + row["added"] > MAX_TAGS_PER_CASE:
        raise CaseTooManyTags(f"A case holds at most {MAX_TAGS_PER_CASE} tags.")
    if row["added"]:
        await touch_case(conn, case_id, actor.user_id)


async def remove_tags(conn: asyncpg.Connection, actor: Caller, case_id: int, tags: list[str]) -> None:
    """Remove tags from a case the actor may see (a tag it does not have is no error)."""
    await lock_staff_case(conn, actor, case_id, closed_ok=True)
    if await conn.fetchval(SQL["remove_tags"], case_id, tags):
        await touch_case(conn, case_id, actor.user_id)
