"""How a push's names become rows: topics (by BackendID, by name under a parent, or the guide's topic name),
statuses (by name, then BackendID), assignees (by ID, CustomID or e-mail) and organization units (by BackendID).
Topics and statuses a push does not find are created when the settings allow it; a simultaneous push creating
the same one is absorbed by ON CONFLICT DO NOTHING and a second read."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import msgspec

from evacase.auth import UserType
from evacase.db import load_queries
from evacase.domain.topics import MAX_DEPTH, depth_exceeded
from evacase.errors import (
    PushCaseMultipleOptionsForCaseTopicName,
    PushCaseUnknownOrganizationUnit,
    PushCaseUnknownParentTopic,
    PushCaseUnknownPushedStatus,
    PushCaseUnknownPushedTopic,
    ValidationFailed,
)

SQL = load_queries("push")


def unknown_topic(what: str) -> ValidationFailed:
    return PushCaseUnknownPushedTopic(
        f"{what} does not exist and PushCases:AutoCreateTopic is off.", data={"Field": "CaseTopic"}
    )


async def create_topic(
    conn: asyncpg.Connection, parent_id: int | None, name: str, backend_id: str | None
) -> tuple[int, str]:
    """A new topic (or the one a simultaneous push just created) and its display path."""
    if parent_id is not None and await conn.fetchval(SQL["topic_depth"], parent_id) >= MAX_DEPTH - 1:
        raise depth_exceeded()
    row = await conn.fetchrow(SQL["create_pushed_topic"], parent_id, name, backend_id)
    if row is None:  # a simultaneous push created it
        row = await conn.fetchrow(SQL["topic_by_name_under"], name, parent_id)
    # Read in a statement of its own: the one that inserted the topic cannot see it.
    return int(row["id"]), await conn.fetchval(SQL["topic_path"], row["id"])


@dataclass(frozen=True, slots=True)
class TopicRef:
    """A pushed CaseTopic: BackendID, Name, ParentBackendID (empty strings count as absent)."""

    BackendID: str | None = None
    Name: str | None = None
    ParentBackendID: str | None = None


async def resolve_topic(
    conn: asyncpg.Connection,
    topic: TopicRef | None,
    topic_name: str | None,
    auto_create: bool,
    by_backend_id: tuple[int, str] | None,
) -> tuple[int, str]:
    """The contract's CaseTopic resolution (BackendID, then Name under ParentBackendID, then create), or the
    guide's `Topic` name (anywhere in the tree; several -> ambiguous, none -> a new root topic): the topic and
    its display path. `by_backend_id`: the topic push_reads found for CaseTopic.BackendID (ID, path), if any."""
    if topic is not None and (topic.BackendID or topic.Name):
        if topic.BackendID and by_backend_id is not None:
            return by_backend_id
        parent_id = None
        if topic.ParentBackendID:
            parent = await conn.fetchrow(SQL["topic_by_backend_id"], topic.ParentBackendID)
            if parent is None:
                raise PushCaseUnknownParentTopic(
                    f"There is no case topic with BackendID `{topic.ParentBackendID}` (CaseTopic.ParentBackendID).",
                    data={"Field": "CaseTopic.ParentBackendID"},
                )
            parent_id = parent["id"]
        if topic.Name:
            found = await conn.fetchrow(SQL["topic_by_name_under"], topic.Name, parent_id)
            if found is not None:
                return int(found["id"]), found["path"]
        if not auto_create:
            raise unknown_topic(f"The case topic `{topic.Name or topic.BackendID}`")
        if not topic.Name:
            raise ValidationFailed(
                "CaseTopic.Name is required to create a topic its BackendID does not find.",
                data={"Field": "CaseTopic.Name"},
            )
        return await create_topic(conn, parent_id, topic.Name, topic.BackendID or None)
    if topic_name:
        matches = await conn.fetch(SQL["topics_by_name"], topic_name)
        if len(matches) > 1:
            raise PushCaseMultipleOptionsForCaseTopicName(
                f"Several case topics are named `{topic_name}`: push a CaseTopic with a BackendID or parent instead.",
                data={"Field": "Topic"},
            )
        if matches:
            return int(matches[0]["id"]), matches[0]["path"]
        if not auto_create:
            raise unknown_topic(f"The case topic `{topic_name}`")
        return await create_topic(conn, None, topic_name, None)
    raise ValidationFailed(
        "CaseTopic is required: a BackendID or Name (or the older Topic name).", data={"Field": "CaseTopic"}
    )


Status = tuple[int, str, bool]  # ID, name, IsClosed


async def resolve_status(conn: asyncpg.Connection, name: str, auto_create: bool, found: Status | None) -> Status:
    """The status by name (then BackendID), as push_reads found it key-share-locked (`found`); else a new, open one
    when allowed."""
    if found is not None:
        return found
    if not auto_create:
        raise PushCaseUnknownPushedStatus(
            f"The case status `{name}` does not exist and PushCases:AutoCreateStatus is off.", data={"Field": "Status"}
        )
    row = await conn.fetchrow(SQL["create_pushed_status"], name)
    if row is None:  # a simultaneous push created it
        row = await conn.fetchrow(SQL["find_status"], name)
    return row["id"], row["name"], row["is_closed"]


async def resolve_assignee(
    conn: asyncpg.Connection, user_id: int | None, custom_id: str | None, email: str | None
) -> asyncpg.Record | None:
    """By ID, else CustomID, else e-mail address; only Employee and System users can be assignees (anyone
    else, or nobody found: no assignee, not an error)."""
    user = None
    if user_id is not None:
        user = await conn.fetchrow(SQL["user_by_id"], user_id)
    if user is None and custom_id:
        user = await conn.fetchrow(SQL["employee_by_custom_id"], custom_id)
    if user is None and email:
        user = await conn.fetchrow(SQL["employee_by_email"], email)
    if user is None or not user["user_type"] & UserType.EMPLOYEE:
        return None
    return user


async def resolve_unit(
    conn: asyncpg.Connection, backend_id: str | msgspec.UnsetType | None, field: str
) -> int | msgspec.UnsetType | None:
    if backend_id is msgspec.UNSET:
        return msgspec.UNSET
    if not backend_id:
        return None
    unit: int | None = await conn.fetchval(SQL["unit_by_backend_id"], backend_id)
    if unit is None:
        raise PushCaseUnknownOrganizationUnit(
            f"There is no organization unit with BackendID `{backend_id}` ({field}).", data={"Field": field}
        )
    return unit
