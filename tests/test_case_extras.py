"""case_extras, kept by triggers: for any sequence of contact and link changes (added, removed, made staff-only
or not, links turned round), each case's counts are what case_contacts and case_links hold — what
CustomerGetCaseByID and GetCaseByID read instead of probing those tables."""

from __future__ import annotations

import asyncpg
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import PROPERTY_SETTINGS

CASES = 4
steps = st.lists(
    st.one_of(
        st.tuples(st.just("contact"), st.integers(0, CASES - 1), st.booleans(), st.integers(0, 3)),
        st.tuples(st.just("uncontact"), st.integers(0, 20)),
        st.tuples(st.just("flip"), st.integers(0, 20)),
        st.tuples(st.just("link"), st.integers(0, CASES - 1), st.integers(0, CASES - 1)),
        st.tuples(st.just("unlink"), st.integers(0, 20)),
        st.tuples(st.just("turn"), st.integers(0, 20)),
    ),
    max_size=25,
)

COUNTS = """
SELECT c.id,
       (SELECT count(*) FROM case_contacts k WHERE k.case_id = c.id AND NOT k.is_staff_only)::integer,
       (SELECT count(*) FROM case_contacts k WHERE k.case_id = c.id AND k.is_staff_only)::integer,
       (SELECT count(*) FROM case_links l WHERE c.id IN (l.case_id, l.linked_case_id))::integer
FROM cases c WHERE c.id = ANY ($1::bigint[]) ORDER BY c.id
"""


@PROPERTY_SETTINGS
@given(script=steps)
async def test_the_counts_follow_every_change_of_contacts_and_links(
    db: asyncpg.Connection, script: list[tuple]
) -> None:
    await db.execute("INSERT INTO users (id, user_type) VALUES (1, 2) ON CONFLICT DO NOTHING")
    ids = [
        await db.fetchval(
            "INSERT INTO cases (customer_id, topic_id, status_id, title) VALUES (1, 1, 1, 'c') RETURNING id"
        )
        for _ in range(CASES)
    ]
    for step in script:
        kind = step[0]
        if kind == "contact":
            _, case, staff_only, n = step
            await db.execute(
                "INSERT INTO case_contacts (case_id, type, email_address, is_staff_only)"
                " VALUES ($1, 'Technical', $2, $3)"
                " ON CONFLICT (case_id, type, contact_key) DO UPDATE SET is_staff_only = excluded.is_staff_only",
                ids[case],
                f"c{n}@example.com",
                staff_only,
            )
        elif kind in ("uncontact", "flip"):
            row = await db.fetchrow(
                "SELECT id FROM case_contacts WHERE case_id = ANY ($1::bigint[]) ORDER BY id OFFSET $2 LIMIT 1",
                ids,
                step[1] % 7,
            )
            if row is not None and kind == "uncontact":
                await db.execute("DELETE FROM case_contacts WHERE id = $1", row["id"])
            elif row is not None:
                await db.execute("UPDATE case_contacts SET is_staff_only = NOT is_staff_only WHERE id = $1", row["id"])
        elif kind == "link":
            _, a, b = step
            if a != b:
                await db.execute(
                    "INSERT INTO case_links (case_id, linked_case_id, type) VALUES ($1, $2, 'Related')"
                    " ON CONFLICT DO NOTHING",
                    ids[a],
                    ids[b],
                )
        else:
            row = await db.fetchrow(
                "SELECT case_id, linked_case_id FROM case_links WHERE case_id = ANY ($1::bigint[])"
                " ORDER BY case_id, linked_case_id OFFSET $2 LIMIT 1",
                ids,
                step[1] % 5,
            )
            if row is not None and kind == "unlink":
                await db.execute("DELETE FROM case_links WHERE case_id = $1 AND linked_case_id = $2", row[0], row[1])
            elif row is not None:  # the same link seen from the other case (relinking turns it round)
                await db.execute(
                    "UPDATE case_links SET case_id = linked_case_id, linked_case_id = case_id"
                    " WHERE case_id = $1 AND linked_case_id = $2",
                    row[0],
                    row[1],
                )
    actual = [tuple(r) for r in await db.fetch(COUNTS, ids)]
    kept = {
        r["case_id"]: (r["customer_contacts"], r["staff_contacts"], r["links"])
        for r in await db.fetch("SELECT * FROM case_extras WHERE case_id = ANY ($1::bigint[])", ids)
    }
    assert [(case, *kept.get(case, (0, 0, 0))) for case in ids] == actual
