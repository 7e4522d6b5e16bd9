"""The customer lists' rows are rendered as JSON by PostgreSQL (their hot path shapes no row in Python): for any
row the database can hold — names missing, empty or full of quotes, backslashes and control characters, texts
absent, ledger lines, others' messages, open and closed cases — the JSON is the one the response Structs give,
field for field and in the Structs' order."""

from __future__ import annotations

import itertools
from typing import Any

import asyncpg
import msgspec
from hypothesis import given
from hypothesis import strategies as st

from evacase.domain.changes import CUSTOMER_VISIBLE_TYPES, InteractionType
from evacase.messages import iso_ms, user_name
from evacase.services.customer_cases import CustomerCaseDto
from evacase.services.customer_interactions import CustomerInteractionDto, can_modify
from tests.helpers import Api, customer
from tests.strategies import PROPERTY_SETTINGS

_ids = itertools.count(20_000)
# Text PostgreSQL can hold (no NUL), with what JSON must escape.
texts = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=30)
names = st.one_of(st.none(), st.just(""), texts)
authors = st.sampled_from(["caller", "other", "nobody"])


def as_json(struct: msgspec.Struct) -> dict[str, Any]:
    decoded: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(struct))
    return decoded


@PROPERTY_SETTINGS
@given(
    closed=st.booleans(),
    lines=st.lists(
        st.tuples(st.sampled_from(CUSTOMER_VISIBLE_TYPES), authors, names, names, st.one_of(st.none(), texts)),
        min_size=1,
        max_size=6,
    ),
)
async def test_interaction_rows_render_as_their_structs(
    api: Api, db: asyncpg.Connection, closed: bool, lines: list[tuple[int, str, str | None, str | None, str | None]]
) -> None:
    who = next(_ids)
    await db.execute("INSERT INTO users (id, user_type) VALUES ($1, 2)", who)
    status = await db.fetchval("SELECT id FROM case_statuses WHERE is_closed = $1 ORDER BY id LIMIT 1", closed)
    case_id = await db.fetchval(
        "INSERT INTO cases (customer_id, topic_id, status_id, title, closing_time)"
        " VALUES ($1, 1, $2, 'A case', CASE WHEN $3 THEN now() END) RETURNING id",
        who,
        status,
        closed,
    )
    expected = []
    for kind, author, first, last, text in lines:
        if author == "caller":
            author_id: int | None = who
            await db.execute("UPDATE users SET first_name = $2, last_name = $3 WHERE id = $1", who, first, last)
        elif author == "other":
            author_id = next(_ids)
            await db.execute(
                "INSERT INTO users (id, user_type, first_name, last_name) VALUES ($1, 1, $2, $3)",
                author_id,
                first,
                last,
            )
        else:
            author_id = None
        row = await db.fetchrow(
            "INSERT INTO interactions (case_id, type, text, created_by, last_modification_time)"
            " VALUES ($1, $2, $3, $4, CASE WHEN $2 = 0 THEN now() END) RETURNING *",
            case_id,
            kind,
            text,
            author_id,
        )
        expected.append(row)
    answer = await api.ok("CustomerListCaseInteractions", {"CaseID": case_id}, customer(who))
    # The authors' names as the list read them (the caller's token wrote its own names before the list ran).
    users = {r["id"]: r for r in await db.fetch("SELECT id, first_name, last_name FROM users WHERE id >= 20000")}
    structs = [
        CustomerInteractionDto(
            ID=r["id"],
            CaseID=case_id,
            Type=r["type"],
            CanBeModified=can_modify(who, r["type"], r["created_by"], closed),
            Text=r["text"],
            CreationTime=iso_ms(r["creation_time"]),
            LastModificationTime=iso_ms(r["last_modification_time"]),
            CreatedByID=None if r["type"] == InteractionType.LEDGER else r["created_by"],
            CreatedBy=user_name(users[r["created_by"]]["first_name"], users[r["created_by"]]["last_name"])
            if r["created_by"] is not None
            else None,
        )
        for r in sorted(expected, key=lambda r: (r["creation_time"], r["id"]), reverse=True)
    ]
    want = [as_json(s) for s in structs]
    assert answer["Results"] == want
    assert [list(item) for item in answer["Results"]] == [list(item) for item in want]  # the Structs' field order


@PROPERTY_SETTINGS
@given(
    cases=st.lists(
        st.tuples(
            texts.filter(lambda t: 1 <= len(t) <= 255),
            st.one_of(st.none(), st.integers(min_value=1, max_value=2**63 - 1)),
            st.one_of(st.none(), texts.filter(lambda t: 1 <= len(t) <= 200)),
            st.one_of(st.none(), st.just(1)),
            st.sampled_from([0, 1, 2, 9]),  # cases_priority_valid
        ),
        min_size=1,
        max_size=5,
    )
)
async def test_case_rows_render_as_their_structs(
    api: Api, db: asyncpg.Connection, cases: list[tuple[str, int | None, str | None, int | None, int]]
) -> None:
    who = next(_ids)
    await db.execute("INSERT INTO users (id, user_type) VALUES ($1, 2)", who)
    rows = [
        await db.fetchrow(
            "INSERT INTO cases (customer_id, topic_id, status_id, title, order_id, customer_reference, priority)"
            " VALUES ($1, $2, 1, $3, $4, $5, $6) RETURNING *",
            who,
            topic,
            title,
            order_id,
            reference,
            priority,
        )
        for title, order_id, reference, topic, priority in cases
    ]
    topic_name = await db.fetchval("SELECT name FROM case_topics WHERE id = 1")
    status_name = await db.fetchval("SELECT name FROM case_statuses WHERE id = 1")
    structs = [
        CustomerCaseDto(
            ID=r["id"],
            TopicID=r["topic_id"],
            TopicName=topic_name if r["topic_id"] is not None else None,
            StatusID=r["status_id"],
            StatusName=status_name,
            Priority=r["priority"],
            Title=r["title"],
            OrderID=r["order_id"],
            ReportingTime=iso_ms(r["reporting_time"]),
            CustomerReference=r["customer_reference"],
        )
        for r in sorted(rows, key=lambda r: (r["reporting_time"], r["id"]), reverse=True)
    ]
    answer = await api.ok("CustomerListCases", {}, customer(who))
    want = [as_json(s) for s in structs]
    assert answer["Results"] == want
    assert [list(item) for item in answer["Results"]] == [list(item) for item in want]
