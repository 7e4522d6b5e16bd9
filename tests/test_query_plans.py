"""Every list reads one page from its index, in order, however many rows its key holds.

Checked on the plans PostgreSQL runs for evacase's own pool connections, on a skewed data set (one customer
with thousands of cases, one case with thousands of interactions), for custom plans and for the generic plan
a prepared statement switches to after five executions. Without the pool's settings (db.SERVER_SETTINGS) the
generic plans read every row of the key and sort them: the page cost would grow with the customer's size."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import asyncpg
import pytest

from evacase.db import create_pool, load_queries
from evacase.domain.cases import Viewer
from tests.conftest import TEMPLATE, DatabaseFactory, dsn_for

HEAVY_CUSTOMER, HEAVY_CASE = 1, 1
PAGE = 26  # a page of 25 and the row that tells whether there is a next page
FAR = "'9999-12-31 23:59:59.999999+00'::timestamptz"
BIGINT_MAX = 2**63 - 1

# Rows of the heavy customer and of the busy case are spread over the whole table, as in production: their
# index order does not follow the heap's.
# Bulk plan data fires no triggers (events, service levels, status times: not what these tests measure, and
# row by row they would cost seconds per test).
WITHOUT_EVENTS = "ALTER TABLE cases DISABLE TRIGGER USER; ALTER TABLE interactions DISABLE TRIGGER USER;"
SKEWED = (
    WITHOUT_EVENTS
    + """
INSERT INTO users (id, user_type) SELECT g, 2 FROM generate_series(1, 300) g;
INSERT INTO cases (customer_id, topic_id, status_id, title, reporting_time)
SELECT CASE WHEN g % 5 = 0 THEN 1 ELSE 2 + g % 299 END, 1 + g % 7, 1, 'Case ' || g,
       now() - ((g * 7919) % 20000) * interval '1 minute'
FROM generate_series(1, 20000) g;
INSERT INTO interactions (case_id, type, text, created_by, creation_time)
SELECT CASE WHEN g % 5 = 0 THEN 1 ELSE 2 + g % 19000 END, g % 4, 'Text ' || g, 1 + g % 300,
       now() - ((g * 7919) % 30000) * interval '1 second'
FROM generate_series(1, 30000) g;
ANALYZE;
"""
)

# (domain, query, parameter types, arguments as SQL literals: first page, then a page 2,000 rows deep)
LISTS = [
    (
        "cases",
        "customer_list_cases_after",
        "bigint, timestamptz, bigint, integer",
        ["1, {far}, {big}, 26", "1, {case_time}, {case_id}, 26"],
    ),
    (
        "cases",
        "customer_list_cases_before",
        "bigint, timestamptz, bigint, integer",
        ["1, {case_time}, {case_id}, 26"],
    ),
    (
        "interactions",
        "customer_list_interactions_after",
        "bigint, bigint, integer[], timestamptz, bigint, integer",
        [
            "1, 1, '{{0,2,3}}', {far}, {big}, 26",
            "1, 1, '{{0,2,3}}', {interaction_time}, {interaction_id}, 26",
        ],
    ),
    (
        "interactions",
        "customer_list_interactions_before",
        "bigint, bigint, integer[], timestamptz, bigint, integer",
        ["1, 1, '{{0,2,3}}', {interaction_time}, {interaction_id}, 26"],
    ),
    (
        "interactions",
        "customer_list_interactions_filtered_after",
        "bigint, bigint, integer[], timestamptz, bigint, bigint, text, integer",
        [
            "1, 1, '{{0,2,3}}', {far}, {big}, NULL, '%Text 1%', 26",
            "1, 1, '{{0,2,3}}', {interaction_time}, {interaction_id}, NULL, '%Text 1%', 26",
        ],
    ),
    (
        "interactions",
        "customer_list_interactions_filtered_before",
        "bigint, bigint, integer[], timestamptz, bigint, bigint, text, integer",
        ["1, 1, '{{0,2,3}}', {interaction_time}, {interaction_id}, NULL, '%Text 1%', 26"],
    ),
]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


@pytest.mark.data("skewed")
@pytest.mark.parametrize("plan_mode", ["force_generic_plan", "force_custom_plan"])
@pytest.mark.parametrize(("domain", "name", "types", "arguments"), LISTS, ids=[f"{d}.{n}" for d, n, _, _ in LISTS])
async def test_a_list_page_reads_one_page_of_its_index(
    db_dsn: str, db: asyncpg.Connection, plan_mode: str, domain: str, name: str, types: str, arguments: list[str]
) -> None:
    case = await db.fetchrow(
        "SELECT reporting_time::text, id FROM cases WHERE customer_id = 1"
        " ORDER BY reporting_time DESC, id DESC OFFSET 2000 LIMIT 1"
    )
    interaction = await db.fetchrow(
        "SELECT creation_time::text, id FROM interactions WHERE case_id = 1"
        " ORDER BY creation_time DESC, id DESC OFFSET 2000 LIMIT 1"
    )
    values = {
        "far": FAR,
        "big": BIGINT_MAX,
        "case_time": f"'{case[0]}'::timestamptz",
        "case_id": case[1],
        "interaction_time": f"'{interaction[0]}'::timestamptz",
        "interaction_id": interaction[1],
    }
    pool = await create_pool(db_dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute(f"SET plan_cache_mode = {plan_mode}")
            await conn.execute(f"PREPARE q ({types}) AS {load_queries(domain)[name]}")
            for args in arguments:
                explained = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE q ({args.format(**values)})")
                plan = json.loads(explained)[0]["Plan"]
                scans = [n for n in nodes(plan) if n.get("Relation Name") in ("cases", "interactions")]
                assert scans, plan
                assert not [n for n in nodes(plan) if "Bitmap" in n["Node Type"]], plan
                assert not [n for n in nodes(plan) if n["Node Type"] == "Seq Scan" and n in scans], plan
                for scan in scans:
                    touched = scan["Actual Rows"] + scan.get("Rows Removed by Filter", 0)
                    assert touched * scan["Actual Loops"] <= 2 * PAGE, (name, args, scan)
            await conn.execute("DEALLOCATE q")
            await conn.execute("RESET plan_cache_mode")
    finally:
        await pool.close()


# ListCases: each filter alone, with a value 100 of the 20,000 cases hold (a page needs 26) and with a common
# value: read from the filter's own index, a page costs one page; read in ID order and filtered, a rare value
# would cost 200 pages. (type, rare value, common value)
LIST_FILTERS = {
    "ID": ("bigint", "200", "201"),
    "BackendID": ("text", "'B200'", "'B201'"),
    "TopicID": ("bigint", "7", "1"),
    "StatusID": ("bigint", "2", "1"),
    "Priority": ("integer", "2", "0"),
    "CustomerID": ("bigint", "300", "2"),
    "AssigneeID": ("bigint", "300", "2"),
    "AssignedOrganizationUnitID": ("bigint", "1", "2"),
    "OriginatingOrganizationUnitID": ("bigint", "1", "2"),
    "OrderID": ("bigint", "1", "201"),
    "ExternalOrderIdentifier": ("text", "'E0'", "'E201'"),
    "CustomerReference": ("text", "'R0'", "'R1'"),
    "Origin": ("text", "'Voice'", "'Api'"),
    "AssignedToMe": ("bigint", "300", "2"),
    "CreatedByMe": ("bigint", "300", "2"),
    "Tag": ("text", "'rare'", "'common'"),
    "Unassigned": (None, "", ""),  # no value: 100 unassigned cases
}
RARE = """
UPDATE cases SET
    status_id = CASE WHEN id % 200 = 0 THEN 2 ELSE 1 END,
    priority = CASE WHEN id % 200 = 0 THEN 2 ELSE 0 END,
    customer_id = CASE WHEN id % 200 = 0 THEN 300 ELSE 2 + id % 298 END,
    assignee_id = CASE WHEN id % 200 = 0 THEN 300 ELSE 2 + id % 298 END,
    backend_id = 'B' || id,
    external_order_identifier = 'E' || CASE WHEN id % 200 = 0 THEN 0 ELSE id END,
    assigned_organization_unit_id = CASE WHEN id % 200 = 0 THEN 1 ELSE 2 + id % 99 END,
    originating_organization_unit_id = CASE WHEN id % 200 = 0 THEN 1 ELSE 2 + id % 99 END,
    order_id = CASE WHEN id % 200 = 0 THEN 1 ELSE id END,
    topic_id = CASE WHEN id % 200 = 0 THEN 7 ELSE 1 + id % 6 END,
    customer_reference = 'R' || CASE WHEN id % 200 = 0 THEN 0 ELSE 1 + id % 3 END,
    origin = CASE WHEN id % 200 = 0 THEN 'Voice' ELSE 'Api' END,
    created_by = CASE WHEN id % 200 = 0 THEN 300 ELSE 2 + id % 298 END;
UPDATE cases SET assignee_id = NULL WHERE id % 200 = 100;
INSERT INTO case_tags (case_id, tag) SELECT id, 'rare' FROM cases WHERE id % 200 = 0;
INSERT INTO case_tags (case_id, tag) SELECT id, 'common' FROM cases WHERE id % 2 = 1;
VACUUM ANALYZE cases;
VACUUM ANALYZE case_tags;
"""


async def list_cases_data(db: asyncpg.Connection) -> None:
    await db.execute(
        WITHOUT_EVENTS + "INSERT INTO users (id, user_type) SELECT g, 2 FROM generate_series(1, 300) g;"
        "INSERT INTO cases (customer_id, topic_id, status_id, title)"
        " SELECT 1, 1, 1, 'Case ' || g FROM generate_series(1, 20000) g"
    )
    for statement in RARE.strip().split(";\n"):
        await db.execute(statement)


async def skewed_data(db: asyncpg.Connection) -> None:
    await db.execute(SKEWED)


# The data sets take seconds to build and are read-only to most tests: each is built once per test process, as a
# database of its own, and each test gets a clone of it (a file copy: a fraction of a second).
DATA_SETS: dict[str, Callable[[asyncpg.Connection], Awaitable[None]]] = {
    "skewed": skewed_data,
    "list_cases": list_cases_data,
}


class DataTemplates:
    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn
        self.built: list[str] = []
        self.clones = 0

    async def _admin(self, sql: str) -> None:
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            await admin.execute(sql)
        finally:
            await admin.close()

    async def clone(self, data_set: str) -> str:
        template = f"evacase_plans_{data_set}_{os.getpid()}"
        if template not in self.built:
            await self._admin(f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")
            await self._admin(f"CREATE DATABASE {template} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
            self.built.append(template)
            conn = await asyncpg.connect(dsn_for(self.admin_dsn, template))
            try:
                await DATA_SETS[data_set](conn)
            finally:
                await conn.close()
        self.clones += 1
        name = f"{template}_{self.clones}"
        await self._admin(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        return name

    async def drop(self, name: str) -> None:
        await self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
async def data_templates(pg_admin_dsn: str, template_dsn: str) -> AsyncIterator[DataTemplates]:
    templates = DataTemplates(pg_admin_dsn)
    yield templates
    for name in templates.built:
        await templates.drop(name)


@pytest.fixture
async def db_dsn(
    request: pytest.FixtureRequest, pg_admin_dsn: str, databases: DatabaseFactory, data_templates: DataTemplates
) -> AsyncIterator[str]:
    """The test's database: a clone of the data set its `data` marker names, else of the empty template."""
    marker = request.node.get_closest_marker("data")
    if marker is None:
        name = await databases.take()
        yield dsn_for(pg_admin_dsn, name)
        databases.release(name)
        return
    name = await data_templates.clone(marker.args[0])
    yield dsn_for(pg_admin_dsn, name)
    await data_templates.drop(name)


def pages_read(plan: dict[str, Any]) -> float:
    scans = [n for n in nodes(plan) if n.get("Relation Name") == "cases"]
    assert scans, plan
    assert not [n for n in scans if n["Node Type"] == "Seq Scan" or "Bitmap" in n["Node Type"]], plan
    assert not [n for n in nodes(plan) if n["Node Type"] == "Sort" and n.get("Actual Rows", 0) > PAGE], plan
    return max((n["Actual Rows"] + n.get("Rows Removed by Filter", 0)) * n["Actual Loops"] for n in scans) / PAGE


@pytest.mark.data("list_cases")
@pytest.mark.parametrize("plan_mode", ["force_generic_plan", "force_custom_plan"])
async def test_each_list_cases_filter_reads_one_page_of_its_index(
    db_dsn: str, db: asyncpg.Connection, plan_mode: str
) -> None:
    from evacase.services.case_list import list_query

    deep = await db.fetchval("SELECT id FROM cases WHERE status_id = 1 ORDER BY id DESC OFFSET 5000 LIMIT 1")
    pool = await create_pool(db_dsn, min_size=1, max_size=1)
    read: dict[tuple[str, str, bool], float] = {}
    try:
        async with pool.acquire() as conn:
            await conn.execute(f"SET plan_cache_mode = {plan_mode}")
            for field, (type_name, rare, common) in LIST_FILTERS.items():
                for forward in (True, False):
                    sql, _ = list_query({field: "x"}, None, forward=forward, limit=PAGE)
                    types = "bigint" if type_name is None else f"bigint, {type_name}"
                    await conn.execute(f"PREPARE q ({types}) AS {sql}")
                    for value in (rare, common):
                        # Forward from the start and from deep in the list; backward from deep in the list.
                        for bound in [BIGINT_MAX, deep] if forward else [deep]:
                            args = str(bound) if type_name is None else f"{bound}, {value}"
                            explained = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE q ({args})")
                            plan = json.loads(explained)[0]["Plan"]
                            read[(field, value, forward)] = max(read.get((field, value, forward), 0), pages_read(plan))
                    await conn.execute("DEALLOCATE q")
            await conn.execute("RESET plan_cache_mode")
    finally:
        await pool.close()
    assert {key: pages for key, pages in read.items() if pages > 2} == {}


@pytest.mark.data("list_cases")
@pytest.mark.parametrize("plan_mode", ["force_generic_plan", "force_custom_plan"])
@pytest.mark.parametrize(
    ("filters", "units", "types", "values"),
    [
        ({}, None, "", ""),
        ({"StatusID": 2, "AssigneeID": 300}, None, ", bigint, bigint", ", 300, 2"),
        ({"Priority": 0, "TopicID": 7, "Title": "x"}, None, ", bigint, text, integer", ", 7, '%Case%', 0"),
        ({"StatusID": 2}, ([1, 2], 5, None), ", bigint, case_viewer", ", 2, ROW('{1,2}', 5, NULL)"),
    ],
    ids=["no filter", "status and assignee", "priority, topic and title", "status within units"],
)
async def test_list_cases_with_several_filters_reads_one_page_of_the_driving_index(
    db_dsn: str,
    db: asyncpg.Connection,
    plan_mode: str,
    filters: dict[str, Any],
    units: Viewer,
    types: str,
    values: str,
) -> None:
    from evacase.services.case_list import list_query

    pool = await create_pool(db_dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute(f"SET plan_cache_mode = {plan_mode}")
            sql, _ = list_query(filters, units, forward=True, limit=PAGE)
            await conn.execute(f"PREPARE q (bigint{types}) AS {sql}")
            explained = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE q ({BIGINT_MAX}{values})")
            # At most the rare value's 100 cases: a custom plan may read them all by another filter's index and
            # sort them (cheaper by its estimate than walking the driver's index); never more.
            assert pages_read(json.loads(explained)[0]["Plan"]) <= 100 / PAGE
    finally:
        await pool.close()


@pytest.mark.data("list_cases")
@pytest.mark.parametrize("plan_mode", ["force_generic_plan", "force_custom_plan"])
async def test_list_cases_by_modification_time_reads_one_page_of_its_index(
    db_dsn: str, db: asyncpg.Connection, plan_mode: str
) -> None:
    from evacase.services.case_list import list_query

    await db.execute("UPDATE cases SET last_modification_time = now() - ((id * 7919) % 20000) * interval '1 minute'")
    await db.execute("VACUUM ANALYZE cases")
    pool = await create_pool(db_dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute(f"SET plan_cache_mode = {plan_mode}")
            for forward in (True, False):
                filters = {"LastModificationTimeFrom": 0, "LastModificationTimeTo": 0}
                sql, _ = list_query(filters, None, forward=forward, limit=PAGE)
                await conn.execute(f"PREPARE q (timestamptz, bigint, timestamptz, timestamptz) AS {sql}")
                for since in ("1 hour", "3 days", "1 year"):  # few, many, all of the cases
                    bound = "'infinity', 9223372036854775807" if forward else "now() - interval '30 minutes', 1"
                    explained = await conn.fetchval(
                        f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE q ({bound}, now() - interval '{since}', now())"
                    )
                    assert pages_read(json.loads(explained)[0]["Plan"]) <= 2, (forward, since, explained)
                await conn.execute("DEALLOCATE q")
    finally:
        await pool.close()


@pytest.mark.data("list_cases")
@pytest.mark.parametrize("plan_mode", ["force_generic_plan", "force_custom_plan"])
async def test_the_queue_reads_one_page_of_its_index(db_dsn: str, db: asyncpg.Connection, plan_mode: str) -> None:
    from evacase.services.case_list import list_query

    await db.execute(
        "INSERT INTO case_service_levels (case_id, resolution_due, next_due_at, resolution_breached_at)"
        " SELECT id, now() + ((id * 7919) % 20000 - 2000) * interval '1 minute',"
        "        now() + ((id * 7919) % 20000 - 2000) * interval '1 minute',"
        "        CASE WHEN (id * 7919) % 20000 < 2000 THEN now() END"
        " FROM cases WHERE id % 10 <> 0"  # a tenth of the cases have no due time
    )
    await db.execute("VACUUM ANALYZE case_service_levels")
    shapes: list[tuple[dict[str, Any], str, str]] = [
        ({}, "", ""),
        ({"IsOverdue": True}, "", ""),
        ({"IsBreached": True}, "", ""),
        ({"DueBefore": 0}, ", timestamptz", ", now() + interval '1 day'"),
        ({"Priority": 0}, ", integer", ", 0"),
    ]
    pool = await create_pool(db_dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute(f"SET plan_cache_mode = {plan_mode}")
            for filters, types, values in shapes:
                for forward in (True, False):
                    sql, _ = list_query(filters, None, forward=forward, limit=PAGE, queue=True)
                    await conn.execute(f"PREPARE q (timestamptz, bigint{types}) AS {sql}")
                    bound = "'-infinity', 0" if forward else "now() - interval '10 minutes', 9223372036854775807"
                    explained = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE q ({bound}{values})")
                    plan = json.loads(explained)[0]["Plan"]
                    queue_scans = [n for n in nodes(plan) if n.get("Relation Name") == "case_service_levels"]
                    assert queue_scans and all(n["Node Type"].startswith("Index") for n in queue_scans), plan
                    queue_read = max(
                        (n["Actual Rows"] + n.get("Rows Removed by Filter", 0)) * n["Actual Loops"] for n in queue_scans
                    )
                    assert queue_read <= 2 * PAGE and pages_read(plan) <= 2, (filters, forward, plan)
                    await conn.execute("DEALLOCATE q")
    finally:
        await pool.close()


@pytest.mark.data("list_cases")
async def test_list_cases_statements_are_planned_once_per_connection(db_dsn: str, db: asyncpg.Connection) -> None:
    # No planning per request: the pool's connections run every prepared statement on its generic plan.
    from evacase.services.case_list import list_query

    pool = await create_pool(db_dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            for field, value in (("StatusID", 2), ("StatusID", 1), ("AssigneeID", 300), ("Priority", 0)):
                sql, params = list_query({field: value}, None, forward=True, limit=PAGE)
                for _ in range(8):
                    await conn.fetch(sql, BIGINT_MAX, *params)
            counts = await conn.fetch(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE '%NOT c.is_archived%' AND statement NOT LIKE '%pg_prepared_statements%'"
                " ORDER BY prepare_time"
            )
    finally:
        await pool.close()
    assert [(c["generic_plans"], c["custom_plans"]) for c in counts] == [(16, 0), (8, 0), (8, 0)]


def heap_rows(plan: dict[str, Any]) -> int:
    """Rows of cases the plan read from the heap, kept or thrown away."""
    return sum(
        (n.get("Actual Rows", 0) + n.get("Rows Removed by Filter", 0) + n.get("Rows Removed by Index Recheck", 0))
        * n.get("Actual Loops", 1)
        for n in nodes(plan)
        if n.get("Relation Name") == "cases" and n["Node Type"] != "Bitmap Index Scan"
    )


@pytest.mark.data("list_cases")
@pytest.mark.parametrize(
    ("pattern", "matches"), [("%case 1234%", 11), ("%case%", 20000), ("%nowhere%", 0)], ids=["rare", "common", "none"]
)
async def test_a_list_cases_title_search_reads_few_rows_whatever_its_pattern(
    db_dsn: str, db: asyncpg.Connection, pattern: str, matches: int
) -> None:
    # A rare or absent pattern reads the trigram index (no scan of every case), a common one the list's index.
    from evacase.services.case_list import list_query

    assert await db.fetchval("SELECT count(*) FROM cases WHERE title ILIKE $1", pattern) == matches
    sql, _ = list_query({"Title": "x"}, None, forward=True, limit=PAGE)
    pool = await create_pool(db_dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction(readonly=True):
            await conn.execute(load_queries("cases")["title_search_plans"])
            explained = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", BIGINT_MAX, pattern)
    finally:
        await pool.close()
    assert heap_rows(json.loads(explained)[0]["Plan"]) <= 2 * PAGE


@pytest.mark.data("skewed")
@pytest.mark.parametrize(("pattern", "matches"), [("%case 1235%", 1), ("%case%", 4000)], ids=["rare", "common"])
@pytest.mark.parametrize(
    ("name", "bound"),
    [
        ("customer_list_cases_search_after", dt.datetime.max.replace(tzinfo=dt.UTC)),
        ("customer_list_cases_search_before", dt.datetime.min.replace(tzinfo=dt.UTC)),  # the oldest first
    ],
    ids=["after", "before"],
)
async def test_the_heavy_customers_title_search_reads_few_rows(
    db_dsn: str, db: asyncpg.Connection, pattern: str, matches: int, name: str, bound: dt.datetime
) -> None:
    count = await db.fetchval("SELECT count(*) FROM cases WHERE customer_id = 1 AND title ILIKE $1", pattern)
    assert count >= matches
    query = load_queries("cases")[name]
    pool = await create_pool(db_dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction(readonly=True):
            await conn.execute(load_queries("cases")["title_search_plans"])
            explained = await conn.fetchval(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {query}",
                HEAVY_CUSTOMER,
                bound,
                BIGINT_MAX if bound.year == 9999 else 0,
                pattern,
                PAGE,
            )
    finally:
        await pool.close()
    assert heap_rows(json.loads(explained)[0]["Plan"]) <= 2 * PAGE


async def test_list_cases_generic_plans_read_one_page_at_scale(db_dsn: str, db: asyncpg.Connection) -> None:
    # At a couple of hundred thousand cases a generic plan that guessed a tenth of the rows for the page (LIMIT $n)
    # would scan and sort them all: the page's size is part of the statement, and each plan reads one page.
    from evacase.services.case_list import list_query

    await db.execute(
        # The title's trigram index serves no filter here and would cost most of the load's time: it goes first.
        WITHOUT_EVENTS + "DROP INDEX cases_title_trgm_idx;"
        "INSERT INTO users (id, user_type) SELECT g, 2 FROM generate_series(1, 50) g;"
        "INSERT INTO cases (customer_id, topic_id, status_id, priority, assignee_id, title)"
        " SELECT 1 + g % 50, 1 + g % 7, CASE WHEN g % 50 = 0 THEN 2 ELSE 1 END, g % 3, 1 + g % 40, 'Case ' || g"
        " FROM generate_series(1, 200000) g"
    )
    await db.execute("VACUUM ANALYZE cases")
    pool = await create_pool(db_dsn, min_size=1, max_size=1)
    read: dict[str, float] = {}
    try:
        async with pool.acquire() as conn:
            for name, filters, types, values in [
                ("no filter", {}, "", ""),
                ("common status", {"StatusID": 1}, ", bigint", ", 1"),
                ("rare status", {"StatusID": 2}, ", bigint", ", 2"),
                ("assignee", {"AssigneeID": 7}, ", bigint", ", 7"),
                ("priority", {"Priority": 1}, ", integer", ", 1"),
            ]:
                sql, _ = list_query(filters, None, forward=True, limit=PAGE)
                await conn.execute(f"PREPARE q (bigint{types}) AS {sql}")
                plan = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE q ({BIGINT_MAX}{values})")
                await conn.execute("DEALLOCATE q")
                read[name] = pages_read(json.loads(plan)[0]["Plan"])
    finally:
        await pool.close()
    assert {name: pages for name, pages in read.items() if pages > 2} == {}


@pytest.mark.parametrize("plan_mode", ["force_generic_plan", "force_custom_plan"])
async def test_the_change_feed_reads_its_index_from_the_cursor(
    db_dsn: str, db: asyncpg.Connection, plan_mode: str
) -> None:
    await db.execute(
        "INSERT INTO case_events (txid, case_id, event_type, is_exported)"
        " SELECT (1000 + g / 3)::text::xid8, 1 + g % 500, 'updated', true FROM generate_series(1, 30000) g"
    )
    await db.execute("VACUUM ANALYZE case_events")
    pool = await create_pool(db_dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute(f"SET plan_cache_mode = {plan_mode}")
            sql = load_queries("events")["change_feed"]
            await conn.execute(f"PREPARE q (bigint, bigint, integer, integer, bigint, case_viewer) AS {sql}")
            for cursor in ("0, 0", "6000, 0", "10999, 0"):  # from the start, the middle, the end
                explained = await conn.fetchval(
                    f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE q ({cursor}, 5000, 100, NULL, NULL)"
                )
                plan = json.loads(explained)[0]["Plan"]
                scans = [n for n in nodes(plan) if n.get("Relation Name") == "case_events"]
                assert scans and all(n["Node Type"].startswith("Index") for n in scans), plan
                # The page's budget of events at most, wherever the cursor stands.
                assert max(n["Actual Rows"] * n["Actual Loops"] for n in scans) <= 5000, plan
            await conn.execute("DEALLOCATE q")
    finally:
        await pool.close()
