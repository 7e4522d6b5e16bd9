"""The domain layer without HTTP: what a background job does, as the system actor, goes through the same rules and
the same seam as a request (issue 12)."""

from __future__ import annotations

import asyncpg
import pytest

from evacase.auth import SYSTEM_USER_ID, system_actor
from evacase.domain.cases import change_case_state
from evacase.errors import CaseCannotRevertCaseStatusToNewStatus, CaseNotFound
from tests.dbstate import ledger
from tests.factories import a_case


async def test_a_job_closes_a_case_as_the_system_through_the_ledger(db: asyncpg.Connection) -> None:
    case_id = await a_case(db, customer_id=5)
    async with db.transaction():
        action = await change_case_state(db, system_actor(), case_id, {"status_id": 3, "solution": "Closed by rule"})
    assert action == 0
    row = await db.fetchrow(
        "SELECT status_id, closing_time IS NOT NULL AS closed, solution, last_modified_by FROM cases WHERE id = $1",
        case_id,
    )
    assert tuple(row) == (3, True, "Closed by rule", SYSTEM_USER_ID)
    assert (await ledger(db, case_id))[-2:] == ["Case status set to `Completed`", "Case solution updated"]
    author = await db.fetchval(
        "SELECT first_name FROM users u JOIN interactions i ON i.created_by = u.id"
        " WHERE i.case_id = $1 ORDER BY i.id DESC LIMIT 1",
        case_id,
    )
    assert author == "evacase"


async def test_the_systems_changes_keep_the_case_rules(db: asyncpg.Connection) -> None:
    case_id = await a_case(db, customer_id=5, status_id=2)
    with pytest.raises(CaseCannotRevertCaseStatusToNewStatus):
        async with db.transaction():
            await change_case_state(db, system_actor(), case_id, {"status_id": 1})
    with pytest.raises(CaseNotFound):
        async with db.transaction():
            await change_case_state(db, system_actor(), case_id + 1, {"priority": 2})
