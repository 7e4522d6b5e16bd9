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
    CustomerID: int | None = None  # the customer's own case (CustomerGetCaseByID); None for employees


class CaseRow(msgspec.Struct):
    ID: int
    CustomerID: int
    TopicID: int | None
    TopicName: str | None
    StatusID: int
    StatusName: str
    Priority: int
    Title: str
    Description: str | None
    ReportingTime: dt.datetime
    BlobIDs: list[Any]
    IsClosed: bool  # with the assignee: whether the customer may still edit the case
    OrderID: int | None
    IsWarranty: bool
    ClosingTime: dt.datetime | None
    Solution: str | None
    AssigneeID: int | None
    CustomerReference: str | None
    CancellationReason: str | None
    HasContacts: bool  # whether the case has contacts, links, custom fields customers see (evacase then reads them)
    HasLinks: bool
    HasCustomFields: bool


class ListCases(msgspec.Struct):
    CustomerID: int
    BeforeTime: dt.datetime | None = None  # keyset bound (exclusive); None for the first page
    BeforeID: int | None = None


class CaseSummary(msgspec.Struct):
    ID: int
    TopicID: int | None
    TopicName: str | None
    StatusID: int
    StatusName: str
    Priority: int
    Title: str
    ReportingTime: dt.datetime
    OrderID: int | None
    CustomerReference: str | None


class ListInteractions(msgspec.Struct):
    CaseID: int
    CustomerID: int


class InteractionRow(msgspec.Struct):
    ID: int
    Type: int
    Text: str | None
    CreatedBy: int | None
    CreationTime: dt.datetime
    LastModificationTime: dt.datetime | None
    FirstName: str | None
    LastName: str | None
    IsClosed: bool  # the case's: evacase answers from it whether each interaction may be modified


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


class UpdateState(msgspec.Struct):
    ID: int
    StatusID: int
    Solution: str
    UserID: int


class EmployeeListCases(msgspec.Struct):
    Column: str | None = None  # one of LIST_COLUMNS; None: no filter
    Value: int | str | None = None
    Title: str | None = None  # a LIKE pattern
    BeforeID: int | None = None


class PushedInteraction(msgspec.Struct):
    BackendID: str
    Text: str
    Type: int = 0


class Push(msgspec.Struct):
    BackendSystemID: str
    BackendID: str
    TopicBackendID: str
    Status: str
    CustomerBackendID: str
    Title: str
    Description: str
    UserID: int
    Interactions: list[PushedInteraction]


# --- SQL: one statement per route ----------------------------------------------------------------------------

# The rows evacase's customer reads answer with: names of topic and status, blob IDs, interaction authors, and
# only the customer's own case. The case view has every column CustomerGetCaseByID shows (order, warranty, closing
# time, solution, reference, cancellation reason; whether it may be edited: closed, assigned) and whether the case
# has contacts, links or custom fields customers see (case_extras and the custom fields' masks, as evacase reads).
LOOKUP = """SELECT c.id, c.customer_id, c.topic_id, t.name, c.status_id, s.name, c.priority, c.title, c.description,
       c.reporting_time, ARRAY (SELECT b.blob_id FROM case_blobs b WHERE b.case_id = c.id ORDER BY b.position),
       s.is_closed, c.order_id, c.is_warranty, c.closing_time, c.solution, c.assignee_id, c.customer_reference,
       c.cancellation_reason, coalesce(x.customer_contacts, 0) > 0, coalesce(x.links, 0) > 0,
       EXISTS (SELECT 1 FROM custom_fields f WHERE f.visible_mask & 2 <> 0)
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN case_topics t ON t.id = c.topic_id
LEFT JOIN case_extras x ON x.case_id = c.id
WHERE c.id = $1 AND c.customer_id = $2"""

LIST_CASES = """SELECT c.id, c.topic_id, t.name, c.status_id, s.name, c.priority, c.title, c.reporting_time, c.order_id,
       c.customer_reference
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN case_topics t ON t.id = c.topic_id
WHERE c.customer_id = $1 AND (c.reporting_time, c.id) < ($2, $3)
ORDER BY c.reporting_time DESC, c.id DESC LIMIT $4"""

# CustomerListCaseInteractions: a page and the row after it (evacase reads it to know there is a next page), the
# authors' names, each interaction's last modification and whether the case is closed (evacase answers from it
# whether the customer may still modify an interaction).
LIST_INTERACTIONS = """SELECT i.id, i.type, i.text, i.created_by, i.creation_time, i.last_modification_time,
       u.first_name, u.last_name,
       (SELECT s.is_closed FROM cases c JOIN case_statuses s ON s.id = c.status_id WHERE c.id = $1) AS is_closed
FROM (SELECT id, type, text, created_by, creation_time, last_modification_time FROM interactions
      WHERE case_id = $1 AND type = ANY ('{0,2,3}'::integer[])
      ORDER BY creation_time DESC, id DESC LIMIT 26) i
LEFT JOIN users u ON u.id = i.created_by
WHERE EXISTS (SELECT 1 FROM cases c WHERE c.id = $1 AND c.customer_id = $2)
ORDER BY i.creation_time DESC, i.id DESC"""

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

# GetCaseByID for employees: the rows evacase's view reads (sql/cases.sql get_case: every name it shows, the
# customer's profile, the service level, blobs, topic chain, related items, tags) and the contacts and links
# evacase reads only when the case has some, in one statement.
EMPLOYEE_CASE = """SELECT c.id, c.title, c.description, c.priority, c.status_id, s.name AS status_name,
       s.color AS status_color, s.is_closed, c.topic_id, c.customer_id, cu.first_name AS customer_first_name,
       cu.last_name AS customer_last_name, cu.email_address AS customer_email, cu.backend_id AS customer_backend_id,
       nullif(cp.phone_number, '') AS customer_phone,
       c.assignee_id, a.first_name AS assignee_first_name, a.last_name AS assignee_last_name,
       a.email_address AS assignee_email, c.assigned_on,
       c.assigned_organization_unit_id, au.name AS assigned_unit_name,
       c.originating_organization_unit_id, ou.name AS originating_unit_name,
       c.backend_id, c.external_order_identifier, c.order_id, c.summary, c.summary_last_modification_time,
       c.summary_last_modified_by, c.solution, c.is_warranty, c.is_archived, c.reporting_time, c.closing_time,
       c.last_interaction_time, c.creation_time, c.created_by, cb.first_name AS created_by_first_name,
       cb.last_name AS created_by_last_name, c.last_modification_time, c.last_modified_by,
       mb.first_name AS modified_by_first_name, mb.last_name AS modified_by_last_name,
       coalesce(c.due_date, sl.resolution_due) AS due_date, sl.policy_id AS sla_policy_id,
       sl.policy_name AS sla_policy_name, sl.first_response_due, sl.first_response_time, sl.next_response_due,
       sl.resolution_due, sl.paused_since, service_level_at_risk(sl, s.is_closed) AS sla_at_risk,
       coalesce(sl.first_response_warned_at, sl.next_response_warned_at, sl.resolution_warned_at) AS sla_warned_at,
       sl.first_response_breached_at, sl.next_response_breached_at, sl.resolution_breached_at, c.customer_reference,
       c.origin, c.cancellation_reason,
       ARRAY (SELECT g.tag FROM case_tags g WHERE g.case_id = c.id ORDER BY g.tag) AS tags,
       ARRAY (SELECT k.id FROM case_contacts k WHERE k.case_id = c.id ORDER BY k.id) AS contacts,
       ARRAY (SELECT l.linked_case_id FROM case_links l WHERE l.case_id = c.id
              UNION ALL SELECT l.case_id FROM case_links l WHERE l.linked_case_id = c.id) AS links,
       ARRAY (SELECT ROW (b.blob_id, b.url, s.original_name, s.mime_type, s.size)
              FROM case_blobs b
              LEFT JOIN blobs s ON s.id = b.blob_id AND s.deleted_at IS NULL
              WHERE b.case_id = c.id
              ORDER BY b.position) AS blobs,
       ARRAY (SELECT ROW (t.id, t.name, t.backend_id, t.is_deleted)
              FROM topic_ancestry(c.topic_id) x
              JOIN case_topics t ON t.id = x.id
              ORDER BY x.depth) AS topic_chain,
       ARRAY (SELECT ROW (r.id, r.order_line_id, r.product_id, r.serial_number, r.is_warranty,
                          r.warranty_expiration, r.warranty_additional_information)
              FROM case_related_items r
              WHERE r.case_id = c.id
              ORDER BY r.id) AS related_items
FROM cases c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN users cu ON cu.id = c.customer_id
LEFT JOIN customer_profiles cp ON cp.user_id = c.customer_id
LEFT JOIN users a ON a.id = c.assignee_id
LEFT JOIN users cb ON cb.id = c.created_by
LEFT JOIN users mb ON mb.id = c.last_modified_by
LEFT JOIN organization_units au ON au.id = c.assigned_organization_unit_id
LEFT JOIN organization_units ou ON ou.id = c.originating_organization_unit_id
LEFT JOIN case_service_levels sl ON sl.case_id = c.id
WHERE c.id = $1"""

NESTED_ROWS = frozenset({"blobs", "topic_chain", "related_items"})

# ListCases: a page of cases newest first with everything evacase shows (the names of its status, topic, customer,
# assignee, units, creator and last modifier; its due date and service level, at-risk included); a filter reads its
# (value, id) index.
LIST_COLUMNS = ("status_id", "assignee_id", "customer_id", "topic_id", "priority")
EMPLOYEE_LIST = """SELECT c.id, c.title, c.priority, c.status_id, s.name, s.color, c.topic_id, t.name,
       c.customer_id, cu.first_name, cu.last_name, cu.email_address, c.assignee_id, a.first_name, a.last_name,
       c.assigned_organization_unit_id, au.name, c.originating_organization_unit_id, ou.name, c.backend_id,
       c.external_order_identifier, c.order_id, c.reporting_time, c.creation_time, c.last_interaction_time,
       c.last_modification_time, c.created_by, cb.first_name, cb.last_name, c.last_modified_by, mb.first_name,
       mb.last_name, coalesce(c.due_date, sl.resolution_due) AS due_date, sl.policy_id, sl.policy_name,
       sl.first_response_due, sl.first_response_time, sl.next_response_due, sl.resolution_due, sl.paused_since,
       service_level_at_risk(sl, s.is_closed) AS sla_at_risk,
       coalesce(sl.first_response_warned_at, sl.next_response_warned_at, sl.resolution_warned_at) AS sla_warned_at,
       sl.first_response_breached_at, sl.next_response_breached_at, sl.resolution_breached_at,
       c.customer_reference, c.origin,
       ARRAY (SELECT g.tag FROM case_tags g WHERE g.case_id = c.id ORDER BY g.tag) AS tags
FROM (SELECT * FROM cases c WHERE NOT c.is_archived AND {where} ORDER BY {order} LIMIT 26) c
JOIN case_statuses s ON s.id = c.status_id
LEFT JOIN case_topics t ON t.id = c.topic_id
LEFT JOIN users cu ON cu.id = c.customer_id
LEFT JOIN users a ON a.id = c.assignee_id
LEFT JOIN users cb ON cb.id = c.created_by
LEFT JOIN users mb ON mb.id = c.last_modified_by
LEFT JOIN organization_units au ON au.id = c.assigned_organization_unit_id
LEFT JOIN organization_units ou ON ou.id = c.originating_organization_unit_id
LEFT JOIN case_service_levels sl ON sl.case_id = c.id
ORDER BY c.id DESC"""
LIST_BY = {
    **{
        column: EMPLOYEE_LIST.format(
            where=f"c.{column} >= $1 AND c.{column} <= $1 AND (c.{column}, c.id) < ($1, $2)",
            order=f"c.{column} DESC, c.id DESC",
        )
        for column in LIST_COLUMNS
    },
    None: EMPLOYEE_LIST.format(where="c.id < $1", order="c.id DESC"),
    "title": EMPLOYEE_LIST.format(where="c.title ILIKE $1 AND c.id < $2", order="c.id DESC"),
}

# UpdateCaseState: status and solution, the case's modification and its ledger lines, in one statement.
UPDATE_STATE = """WITH changed AS (
    UPDATE cases SET status_id = $2, solution = $3, last_modification_time = now(), last_modified_by = $4
    WHERE id = $1
    RETURNING id, (SELECT name FROM case_statuses WHERE id = $2) AS status_name
)
INSERT INTO interactions (case_id, type, text, created_by)
SELECT changed.id, 2, l.text, $4
FROM changed,
     LATERAL (VALUES ('Case status set to `' || changed.status_name || '`'), ('Case solution updated')) l (text)
RETURNING case_id"""

# PushCase of a new case for a known customer, with its interactions and ledger lines, in one statement.
PUSH_NEW = """WITH new_case AS (
    INSERT INTO cases (backend_system_id, backend_id, topic_id, status_id, customer_id, title, description,
                       created_by, last_modified_by)
    SELECT $1, $2, (SELECT id FROM case_topics WHERE backend_id = $3 AND NOT is_deleted),
           (SELECT id FROM case_statuses WHERE name = $4), (SELECT id FROM users WHERE backend_id = $5 AND is_pushed),
           $6, $7, $8, $8
    RETURNING id
), written AS (
    INSERT INTO interactions (case_id, type, text, backend_id, created_by)
    SELECT new_case.id, i.type, i.text, i.backend_id, $8
    FROM new_case, unnest($9::text[], $10::integer[], $11::text[]) AS i (backend_id, type, text)
)
SELECT id FROM new_case"""

# PushCase with Update: the case's fields and its interactions by BackendID, in one statement.
PUSH_UPDATE = """WITH c AS (
    SELECT id FROM cases WHERE coalesce(backend_system_id, '') = $1 AND backend_id = $2 FOR UPDATE
), updated AS (
    UPDATE cases
    SET topic_id = (SELECT id FROM case_topics WHERE backend_id = $3 AND NOT is_deleted),
        status_id = (SELECT id FROM case_statuses WHERE name = $4),
        customer_id = (SELECT id FROM users WHERE backend_id = $5 AND is_pushed),
        title = $6, description = $7, last_modification_time = now(), last_modified_by = $8
    FROM c WHERE cases.id = c.id
), written AS (
    INSERT INTO interactions AS t (case_id, type, text, backend_id, created_by)
    SELECT c.id, i.type, i.text, i.backend_id, $8
    FROM c, unnest($9::text[], $10::integer[], $11::text[]) AS i (backend_id, type, text)
    WHERE i.backend_id IS NOT NULL
    ON CONFLICT (case_id, backend_id) WHERE backend_id IS NOT NULL DO UPDATE SET text = excluded.text
)
SELECT id FROM c"""

FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)
PAGE_PLUS_ONE = 26  # evacase reads one row more than a page to know whether a next page exists
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
    employee_list_decoder = msgspec.json.Decoder(EmployeeListCases)
    push_decoder = msgspec.json.Decoder(Push)
    update_state_decoder = msgspec.json.Decoder(UpdateState)

    async def no_reset(conn: asyncpg.Connection) -> None:
        """asyncpg still rolls back an open transaction; skip the session-state reset query (none is set)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            dsn, min_size=2, max_size=10, reset=no_reset, server_settings={"enable_bitmapscan": "off"}
        )
        # Title searches read the trigram index, with bitmap scans (as evacase's title search).
        search_pool = await asyncpg.create_pool(
            dsn, min_size=1, max_size=2, reset=no_reset, server_settings={"plan_cache_mode": "force_custom_plan"}
        )
        # The employee lists run with evacase's settings (db.SERVER_SETTINGS): the same plans for the same
        # statements (left to choose, PostgreSQL re-plans them per call or settles on a poor plan for a value).
        list_pool = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=10,
            reset=no_reset,
            server_settings={"enable_bitmapscan": "off", "plan_cache_mode": "force_generic_plan"},
        )
        assert pool is not None and search_pool is not None and list_pool is not None
        pools.extend((pool, search_pool, list_pool))
        try:
            yield
        finally:
            await pool.close()
            await search_pool.close()
            await list_pool.close()

    async def lookup(request: Request) -> Response:
        req = lookup_decoder.decode(await request.body())
        row = await pools[0].fetchrow(LOOKUP, req.ID, req.CustomerID)
        if row is None:
            return Response(b'{"Error":"NotFound"}', 404, media_type="application/json")
        return _json(CaseRow(*row.values()))

    async def list_cases(request: Request) -> Response:
        req = list_cases_decoder.decode(await request.body())
        # On the pool with evacase's plan settings: the statement evacase runs (its plan is checked on skewed data).
        rows = await pools[2].fetch(
            LIST_CASES, req.CustomerID, req.BeforeTime or FAR_FUTURE, req.BeforeID or BIGINT_MAX, PAGE_PLUS_ONE
        )
        rows = rows[:25]
        return _json({"Results": [CaseSummary(*r.values()) for r in rows]})

    async def list_interactions(request: Request) -> Response:
        req = list_interactions_decoder.decode(await request.body())
        rows = await pools[0].fetch(LIST_INTERACTIONS, req.CaseID, req.CustomerID)
        return _json({"Results": [InteractionRow(*r.values()) for r in rows]})

    async def create_case(request: Request) -> Response:
        req = create_decoder.decode(await request.body())
        case_id = await pools[0].fetchval(CREATE_CASE, req.CustomerID, req.TopicID, req.Title, req.Description)
        return _json(Created(case_id))

    async def add_interaction(request: Request) -> Response:
        req = add_decoder.decode(await request.body())
        interaction_id = await pools[0].fetchval(ADD_INTERACTION, req.CaseID, req.Text, req.CustomerID)
        return _json(Created(interaction_id))

    async def employee_case(request: Request) -> Response:
        req = lookup_decoder.decode(await request.body())
        row = await pools[0].fetchrow(EMPLOYEE_CASE, req.ID)
        if row is None:
            return Response(b'{"Error":"NotFound"}', 404, media_type="application/json")
        # the arrays of rows (blobs, topic chain, related items) as lists: msgspec encodes no asyncpg Record
        return _json({k: [tuple(x) for x in v] if k in NESTED_ROWS else v for k, v in row.items()})

    async def employee_list(request: Request) -> Response:
        req = employee_list_decoder.decode(await request.body())
        before = req.BeforeID or BIGINT_MAX
        if req.Title is not None:
            rows = await pools[1].fetch(LIST_BY["title"], req.Title, before)
        elif req.Column is None:
            rows = await pools[2].fetch(LIST_BY[None], before)
        else:
            rows = await pools[2].fetch(LIST_BY[req.Column], req.Value, before)
        return _json({"Results": [list(r.values()) for r in rows]})

    async def push(request: Request, statement: str) -> Response:
        req = push_decoder.decode(await request.body())
        ledger = ["Case created", f"Case status set to `{req.Status}`"] if statement is PUSH_NEW else []
        interactions = [(i.BackendID, i.Type, i.Text) for i in req.Interactions] + [(None, 2, t) for t in ledger]
        case_id = await pools[0].fetchval(
            statement,
            req.BackendSystemID,
            req.BackendID,
            req.TopicBackendID,
            req.Status,
            req.CustomerBackendID,
            req.Title,
            req.Description,
            req.UserID,
            [i[0] for i in interactions],
            [i[1] for i in interactions],
            [i[2] for i in interactions],
        )
        return _json(Created(case_id))

    async def update_state(request: Request) -> Response:
        req = update_state_decoder.decode(await request.body())
        async with pools[0].acquire() as conn:
            await conn.fetch(UPDATE_STATE, req.ID, req.StatusID, req.Solution, req.UserID)
        return Response(b"{}", media_type="application/json")

    async def push_new(request: Request) -> Response:
        return await push(request, PUSH_NEW)

    async def push_update(request: Request) -> Response:
        return await push(request, PUSH_UPDATE)

    async def health(request: Request) -> Response:
        return Response(b'{"Status":"OK"}', media_type="application/json")

    return Starlette(
        routes=[
            Route("/lookup", lookup, methods=["POST"]),
            Route("/list_cases", list_cases, methods=["POST"]),
            Route("/list_interactions", list_interactions, methods=["POST"]),
            Route("/create_case", create_case, methods=["POST"]),
            Route("/add_interaction", add_interaction, methods=["POST"]),
            Route("/employee_case", employee_case, methods=["POST"]),
            Route("/employee_list", employee_list, methods=["POST"]),
            Route("/update_state", update_state, methods=["POST"]),
            Route("/push_new", push_new, methods=["POST"]),
            Route("/push_update", push_update, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
