"""A hypothesis state machine over the customer and employee services: several customers and agents open,
answer, annotate, move, reopen and archive cases in any order; after every step the service agrees with a simple
model on who sees what, closed <=> ClosingTime holds for every case, and the ledger records every status change
(issue 11)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from tests.conftest import make_settings, serving
from tests.helpers import Api, customer, employee
from tests.strategies import PROPERTY_SETTINGS

CUSTOMERS = {301: customer(301), 302: customer(302), 303: customer(303)}
AGENTS = {401: employee(401, ["Cases"]), 402: employee(402, ["Cases"])}
OPEN_STATUSES = (2,)  # InProgress (New cannot be returned to)
CLOSED_STATUSES = (3, 4)  # Completed, Cancelled


@dataclass
class CaseModel:
    owner: int
    closed: bool = False
    archived: bool = False
    status_changes: int = 1  # "Case status set to `New`" on creation
    public: list[int] = field(default_factory=list)  # interactions the customer sees (their own and answers)
    notes: list[int] = field(default_factory=list)  # private notes


class CaseWorld(RuleBasedStateMachine):
    cases = Bundle("cases")
    dsn = ""  # the test's database, set by the test

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.stack = contextlib.AsyncExitStack()
        self.api: Api = self.run(self.stack.enter_async_context(serving(make_settings(self.dsn, pool_max_size=4))))
        self.db: asyncpg.Connection = self.run(asyncpg.connect(self.dsn))
        self.run(self.db.execute("TRUNCATE cases, interactions, users RESTART IDENTITY CASCADE"))
        self.model: dict[int, CaseModel] = {}

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.db.close())
        self.run(self.stack.aclose())
        self.loop.close()

    def call(self, service: str, body: dict[str, Any], tok: str) -> tuple[int, Any]:
        r = self.run(self.api.call(service, body, tok))
        assert r.status_code < 500, (service, body, r.text)
        return r.status_code, r.json()

    # --- rules ---------------------------------------------------------------------------------------------

    @rule(target=cases, who=st.sampled_from(sorted(CUSTOMERS)))
    def customer_opens_a_case(self, who: int) -> int:
        status, body = self.call(
            "CustomerCreateCase", {"Title": "Broken zipper", "Description": "It broke.", "TopicID": 1}, CUSTOMERS[who]
        )
        assert status == 200, body
        self.model[body["ID"]] = CaseModel(owner=who)
        return int(body["ID"])

    @rule(case=cases, who=st.sampled_from(sorted(CUSTOMERS)))
    def customer_writes(self, case: int, who: int) -> None:
        m = self.model[case]
        status, body = self.call("CustomerCreateCaseInteraction", {"CaseID": case, "Text": "Any news?"}, CUSTOMERS[who])
        if m.owner != who:
            assert (status, body["Error"]["Code"]) == (404, "Case:NotFound")
        elif m.closed:
            assert (status, body["Error"]["Code"]) == (409, "Case:CaseAlreadyClosed")
        else:
            assert status == 200, body
            m.public.append(body["ID"])

    @rule(case=cases, agent=st.sampled_from(sorted(AGENTS)), private=st.booleans())
    def agent_writes(self, case: int, agent: int, private: bool) -> None:
        m = self.model[case]
        kind = 1 if private else 0
        status, body = self.call(
            "CreateCaseInteraction", {"CaseID": case, "Text": "Looking into it", "InteractionType": kind}, AGENTS[agent]
        )
        if m.archived:
            assert status == 409, body
            return
        assert status == 200, body
        (m.notes if private else m.public).append(body["ID"])

    @rule(case=cases, agent=st.sampled_from(sorted(AGENTS)), status_id=st.sampled_from(OPEN_STATUSES + CLOSED_STATUSES))
    def agent_moves_the_case(self, case: int, agent: int, status_id: int) -> None:
        m = self.model[case]
        status, body = self.call("UpdateCaseState", {"ID": case, "StatusID": status_id}, AGENTS[agent])
        if m.archived:
            assert (status, body["Error"]["Code"]) == (409, "Case:CaseIsArchived")
            return
        assert status == 200, body
        current = self.run(
            self.db.fetchval(
                "SELECT count(*) FROM interactions WHERE case_id = $1 AND type = 2 AND text LIKE 'Case status set to%'",
                case,
            )
        )
        m.status_changes = current  # a move to the status it already has writes no line
        m.closed = status_id in CLOSED_STATUSES

    @precondition(lambda self: any(m.closed and not m.archived for m in self.model.values()))
    @rule(data=st.data())
    def agent_archives_a_closed_case(self, data: st.DataObject) -> None:
        closed = sorted(c for c, m in self.model.items() if m.closed and not m.archived)
        case = data.draw(st.sampled_from(closed))
        status, body = self.call("ArchiveCase", {"ID": case}, AGENTS[401])
        assert status == 200, body
        self.model[case].archived = True

    # --- invariants ----------------------------------------------------------------------------------------

    @invariant()
    def closed_exactly_when_closing_time(self) -> None:
        rows = self.run(
            self.db.fetch(
                "SELECT c.id, s.is_closed, c.closing_time IS NOT NULL AS has_time FROM cases c"
                " JOIN case_statuses s ON s.id = c.status_id"
            )
        )
        for r in rows:
            assert r["is_closed"] == r["has_time"] == self.model[r["id"]].closed, dict(r)

    @invariant()
    def customers_see_their_own_cases_and_never_a_note(self) -> None:
        for who, tok in CUSTOMERS.items():
            status, body = self.call("CustomerListCases", {"InitialPageConfig": {"Limit": 100}}, tok)
            assert status == 200
            assert {c["ID"] for c in body["Results"]} == {c for c, m in self.model.items() if m.owner == who}
        for case, m in self.model.items():
            status, body = self.call(
                "CustomerListCaseInteractions",
                {"CaseID": case, "InitialPageConfig": {"Limit": 100}},
                CUSTOMERS[m.owner],
            )
            assert status == 200, body
            seen = {i["ID"] for i in body["Results"] if i["Type"] != 2}
            assert seen == set(m.public)
            assert not seen & set(m.notes)
            for other, tok in CUSTOMERS.items():
                if other != m.owner:
                    assert self.call("CustomerGetCaseByID", {"ID": case}, tok)[0] == 404

    @invariant()
    def the_ledger_records_every_status_change(self) -> None:
        for case, m in self.model.items():
            lines = self.run(
                self.db.fetch(
                    "SELECT text, type FROM interactions WHERE case_id = $1 AND text LIKE 'Case status set to%'", case
                )
            )
            assert all(r["type"] == 2 for r in lines)
            assert len(lines) == m.status_changes


def test_the_case_world_keeps_its_invariants(db_dsn: str) -> None:
    world = type("World", (CaseWorld,), {"dsn": db_dsn})
    examples = max(5, (PROPERTY_SETTINGS.max_examples or 40) // 4)
    run_state_machine_as_test(
        world, settings=settings(PROPERTY_SETTINGS, max_examples=examples, stateful_step_count=15)
    )
