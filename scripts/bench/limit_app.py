"""The physical limit of evacase's stack: bare Starlette + msgspec + asyncpg on the same tables, nothing else.

No authentication, no registry, no validation beyond msgspec's typed decoding, no logging: each route decodes a
JSON body, runs one statement and encodes the result. Whatever evacase costs above these routes is the price of
its features (tokens, access rules, error handling, logs); the benchmark (scripts/bench/run.py) reports it as a
ratio. Run on its own with:

    LIMIT_DATABASE_URL=postgresql://... uvicorn limit_app:create_app --factory --app-dir scripts/bench
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# --- requests and responses --------------------------------------------------------------------------------


class Lookup(msgspec.Struct):
    ID: int


class CaseRow(msgspec.Struct):
    ID: int
    CustomerID: int
    TopicID: int | None
    StatusID: int
    Priority: int
    Title: str
    Description: str | None
    ReportingTime: dt.datetime


class ListCases(msgspec.Struct):
    CustomerID: int
    BeforeTime: dt.datetime | None = None  # keyset bound (exclusive); None for the first page
    BeforeID: int | None = None


class CaseSummary(msgspec.Struct):
    ID: int
    TopicID: int | None
    StatusID: int
    Priority: int
    Title: str
    ReportingTime: dt.datetime


class ListInteractions(msgspec.Struct):
    CaseID: int


class InteractionRow(msgspec.Struct):
    ID: int
    Type: int
    Text: str | None
    CreatedBy: int | None
    CreationTime: dt.datetime


class CreateCase(msgspec.Struct):
    CustomerID: int
    TopicID: int
    Title: str
    Description: str


class AddInteraction(msgspec.Struct):
    CaseID: int
    CustomerID: int
    Text: str


class Created(msgspec.Struct):
    ID: int


# --- SQL: one statement per route ----------------------------------------------------------------------------

LOOKUP = """SELECT id, customer_id, topic_id, status_id, priority, title, description, reporting_time
FROM cases WHERE id = $1"""

LIST_CASES = """SELECT id, topic_id, status_id, priority, title, reporting_time
FROM cases WHERE customer_id = $1 AND (reporting_time, id) < ($2, $3)
ORDER BY reporting_time DESC, id DESC LIMIT 25"""

LIST_INTERACTIONS = """SELECT id, type, text, created_by, creation_time
FROM interactions WHERE case_id = $1 AND type = ANY ('{0,2,3}'::integer[])
ORDER BY creation_time DESC, id DESC LIMIT 25"""

# The same writes as CustomerCreateCase: the case and its two opening ledger lines, atomically (one statement).
CREATE_CASE = """WITH new_case AS (
    INSERT INTO cases (customer_id, topic_id, title, description, priority, status_id, created_by, last_modified_by)
    VALUES ($1, $2, $3, $4, 0, 1, $1, $1) RETURNING id
), ledger AS (
    INSERT INTO interactions (case_id, type, text, created_by)
    SELECT new_case.id, 2, l.text, $1
    FROM new_case, unnest(ARRAY['Case created with priority `Low`', 'Case status set to `New`']) AS l (text)
)
SELECT id FROM new_case"""

ADD_INTERACTION = """WITH ins AS (
    INSERT INTO interactions (case_id, type, text, created_by) VALUES ($1, 0, $2, $3)
    RETURNING id, creation_time
), touched AS (
    UPDATE cases SET last_interaction_time = (SELECT creation_time FROM ins) WHERE id = $1
)
SELECT id FROM ins"""

FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)
BIGINT_MAX = 2**63 - 1

# --- the app -------------------------------------------------------------------------------------------------

_encode = msgspec.json.Encoder().encode


def _json(value: Any) -> Response:
    return Response(_encode(value), media_type="application/json")


def create_app(dsn: str | None = None) -> Starlette:
    dsn = dsn or os.environ["LIMIT_DATABASE_URL"]
    pools: list[asyncpg.Pool] = []
    lookup_decoder = msgspec.json.Decoder(Lookup)
    list_cases_decoder = msgspec.json.Decoder(ListCases)
    list_interactions_decoder = msgspec.json.Decoder(ListInteractions)
    create_decoder = msgspec.json.Decoder(CreateCase)
    add_decoder = msgspec.json.Decoder(AddInteraction)

    async def no_reset(conn: asyncpg.Connection) -> None:
        """asyncpg still rolls back an open transaction; skip the session-state reset query (none is set)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            dsn, min_size=2, max_size=10, reset=no_reset, server_settings={"enable_bitmapscan": "off"}
        )
        assert pool is not None
        pools.append(pool)
        try:
            yield
        finally:
            await pool.close()

    async def lookup(request: Request) -> Response:
        req = lookup_decoder.decode(await request.body())
        row = await pools[0].fetchrow(LOOKUP, req.ID)
        if row is None:
            return Response(b'{"Error":"NotFound"}', 404, media_type="application/json")
        return _json(CaseRow(*row.values()))

    async def list_cases(request: Request) -> Response:
        req = list_cases_decoder.decode(await request.body())
        rows = await pools[0].fetch(
            LIST_CASES, req.CustomerID, req.BeforeTime or FAR_FUTURE, req.BeforeID or BIGINT_MAX
        )
        return _json({"Results": [CaseSummary(*r.values()) for r in rows]})

    async def list_interactions(request: Request) -> Response:
        req = list_interactions_decoder.decode(await request.body())
        rows = await pools[0].fetch(LIST_INTERACTIONS, req.CaseID)
        return _json({"Results": [InteractionRow(*r.values()) for r in rows]})

    async def create_case(request: Request) -> Response:
        req = create_decoder.decode(await request.body())
        case_id = await pools[0].fetchval(CREATE_CASE, req.CustomerID, req.TopicID, req.Title, req.Description)
        return _json(Created(case_id))

    async def add_interaction(request: Request) -> Response:
        req = add_decoder.decode(await request.body())
        interaction_id = await pools[0].fetchval(ADD_INTERACTION, req.CaseID, req.Text, req.CustomerID)
        return _json(Created(interaction_id))

    async def health(request: Request) -> Response:
        return Response(b'{"Status":"OK"}', media_type="application/json")

    return Starlette(
        routes=[
            Route("/lookup", lookup, methods=["POST"]),
            Route("/list_cases", list_cases, methods=["POST"]),
            Route("/list_interactions", list_interactions, methods=["POST"]),
            Route("/create_case", create_case, methods=["POST"]),
            Route("/add_interaction", add_interaction, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
