"""Database access plumbing: the pool, SQL loading, and asyncpg errors translated to EVA errors in one place."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import cache, partial
from importlib import resources
from typing import Any, LiteralString, cast

import asyncpg

from evacase.errors import (
    CaseBlobAlreadyAttached,
    CaseCaseWithBackendIDAlreadyExists,
    CaseInteractionBackendIDAlreadyExists,
    CaseInteractionBlobAlreadyAttached,
    CaseInteractionNotFound,
    CaseNotFound,
    CaseStatusCannotChangeIsClosedOfStatusInUse,
    CaseStatusChangedConcurrently,
    CaseStatusNotFound,
    CaseStatusStatusInUse,
    CaseStatusStatusNameAlreadyExists,
    CaseTopicNotFound,
    CaseTopicTopicInUse,
    CaseTopicTopicNameAlreadyExists,
    Conflict,
    CustomFieldNotFound,
    CustomFieldsDuplicateBackendID,
    CustomFieldsDuplicateName,
    EvaError,
    NotFound,
    OrganizationUnitBackendIDAlreadyExists,
    ServiceLevelCalendarInUse,
    ServiceLevelCalendarNotFound,
    UserNotFound,
    ValidationFailed,
)
from evacase.pool import Pool
from evacase.pool import create_pool as open_pool

_BLOCK = re.compile(r"^-- ([a-z_][a-z0-9_]*) --\s*$", re.MULTILINE)
_PARAMS = re.compile(r"^-- params: (.+)$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\$(\d+)")


class Queries(dict[str, LiteralString]):
    """A domain's named queries. A statement of more than four parameters names them in `-- params:` lines
    (in `$1..$n` order) and is called with keywords: `conn.fetchrow(*SQL.bound("create_case", actor=..., ...))`
    — a forgotten, extra or misspelled argument fails loudly instead of shifting the rest by one."""

    def __init__(self) -> None:
        super().__init__()
        self.params: dict[str, tuple[str, ...]] = {}

    def bound(self, name: str, /, **values: Any) -> tuple[Any, ...]:
        """The statement `name` and its arguments in placeholder order, for `conn.fetch*(*...)`."""
        names = self.params[name]
        if len(values) != len(names):
            raise TypeError(f"{name} takes {', '.join(names)}; got {', '.join(values)}")
        return (self[name], *[values[n] for n in names])


def placeholders(sql: str) -> int:
    """The highest `$n` a statement uses."""
    return max((int(n) for n in _PLACEHOLDER.findall(sql)), default=0)


def parse_queries(text: str) -> Queries:
    """Named blocks, procrastinate style: `-- name --`, a one-line `-- description`, optional `-- params:`
    lines, then the SQL. Typed as LiteralString: the SQL is the package's own text, never built from values
    (parameters are `$1..$n`)."""
    parts = _BLOCK.split(text)
    queries = Queries()
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"duplicate query name {name}")
        queries[name] = cast(LiteralString, body.strip())
        declared = [p.strip() for line in _PARAMS.findall(body) for p in line.split(",") if p.strip()]
        if declared:
            if len(declared) != placeholders(body) or len(set(declared)) != len(declared):
                raise ValueError(f"{name}: params {declared} do not match its placeholders")
            queries.params[name] = tuple(declared)
    return queries


@cache
def load_queries(domain: str) -> Queries:
    """The queries of `evacase/sql/<domain>.sql`, loaded once."""
    text = resources.files("evacase.sql").joinpath(f"{domain}.sql").read_text(encoding="utf-8")
    return parse_queries(text)


# Set once per connection, at start-up (no round trip per request):
# - enable_bitmapscan off: every list is read in index order and stops after one page. With bitmap scans,
#   PostgreSQL's generic plan for a prepared list query (chosen after five executions, estimated for an average
#   customer or case) reads *all* rows of the key and sorts them: 200 ms per page for a customer with 36k cases
#   instead of 0.4 ms (measured with scripts/bench). Only a title search needs a bitmap scan (its trigram index);
#   it turns them on for its own transaction (services/case_list.py).
# - plan_cache_mode force_generic_plan: each statement is planned once per connection, never per call. Every
#   query is written so that its generic plan reads one page of the right index (tests/test_query_plans.py checks
#   each list, also on skewed data); left to choose, PostgreSQL kept re-planning ListCases on every call (its
#   generic estimate looked dearer than the custom ones) at 0.3-1 ms a time.
SERVER_SETTINGS = {"enable_bitmapscan": "off", "plan_cache_mode": "force_generic_plan"}


POOLER_MODES = ("none", "session", "transaction")
# What a pooler in front of PostgreSQL cannot pass as start-up parameters, set on the database role instead (the
# start-up check below says which are missing): (setting, value it must have or None for "any bound").
ROLE_SETTINGS = (
    ("enable_bitmapscan", "off"),
    ("plan_cache_mode", "force_generic_plan"),
    ("statement_timeout", None),
    ("idle_in_transaction_session_timeout", None),
)


def pooler_mode() -> str:
    """EVACASE_POOLER: `none` (connections straight to PostgreSQL), `session` or `transaction` (PgBouncer's pool
    modes). Behind a pooler no start-up parameters are sent (PgBouncer refuses them) and, in transaction mode,
    no statement is kept prepared between transactions (another client's server connection would not have it)."""
    mode = os.environ.get("EVACASE_POOLER", "").strip().lower() or "none"
    return mode if mode in POOLER_MODES else "none"


def connect_options() -> dict[str, Any]:
    """What every connection evacase opens needs for the configured pooler (asyncpg.connect / create_pool)."""
    return {"statement_cache_size": 0} if pooler_mode() == "transaction" else {}


async def missing_role_settings(conn: asyncpg.Connection) -> list[str]:
    """Behind a pooler: the ALTER ROLE statements the planner and timeout settings still need (none: all set)."""
    role = await conn.fetchval("SELECT current_user")
    missing = []
    for name, wanted in ROLE_SETTINGS:
        value = await conn.fetchval("SELECT current_setting($1)", name)
        if (wanted is not None and value != wanted) or (wanted is None and value in ("0", "0ms")):
            missing.append(f"ALTER ROLE {role} SET {name} = '{wanted or '5s'}'")
    return missing


def bounded_settings(timeout: float) -> dict[str, str]:
    """SERVER_SETTINGS plus the server-side bounds of a request's work: a statement (lock waits included) is
    cancelled after `timeout` seconds, and a transaction left idle (a client that vanished mid-request) is ended
    after twice that, releasing its locks."""
    ms = max(1, int(timeout * 1000))
    return {
        **SERVER_SETTINGS,
        "statement_timeout": str(ms),
        "idle_in_transaction_session_timeout": str(2 * ms),
    }


async def create_pool(dsn: str, min_size: int = 2, max_size: int = 10, db_timeout: float = 5.0) -> Pool:
    """The request path's pool: every statement bounded by `db_timeout` seconds on the server (the request as a
    whole is bounded by dispatch's deadline; a client-side command_timeout would arm a timer per query)."""
    # Timestamps travel as timestamptz, decoded to UTC whatever the session's zone.
    behind_pooler = pooler_mode() != "none"
    return await open_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings=None if behind_pooler else bounded_settings(db_timeout),
        **connect_options(),
    )


# Failures of the connection itself rather than of a statement: the server went away, restarted, was failed over
# or terminated the backend; the socket broke; asyncpg lost track of the protocol's state mid-operation.
CONNECTION_FAILURES: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
)
# Server errors that mean "unavailable": connection exceptions (08), operator intervention (57P: shutdown,
# terminated backend), a missing database, too many connections.
_UNAVAILABLE_SQLSTATES = ("08", "57P", "3D000", "53300")
QUERY_CANCELED = "57014"  # statement_timeout (or a cancel request): the database did not answer in time


# asyncpg's client-side DataError (an InterfaceError): an argument it cannot encode for its type, the request's
# fault, not the connection's. Not to be confused with asyncpg.DataError, the server's class 22 errors.
ClientDataError = asyncpg.exceptions._base.DataError


def is_connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, ClientDataError):
        return False
    if isinstance(exc, CONNECTION_FAILURES):
        return True
    return isinstance(exc, asyncpg.PostgresError) and (exc.sqlstate or "").startswith(_UNAVAILABLE_SQLSTATES)


def is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or (isinstance(exc, asyncpg.PostgresError) and exc.sqlstate == QUERY_CANCELED)


# A referenced row that is still referenced (a delete refused by a foreign key), by the constraint's name.
STILL_REFERENCED_ERRORS: dict[str, Callable[[], EvaError]] = {
    "cases_status_fk": CaseStatusStatusInUse,
    "cases_topic_fk": CaseTopicTopicInUse,
    "service_level_policies_calendar_fk": ServiceLevelCalendarInUse,
    "case_statuses_auto_close_status_fk": CaseStatusStatusInUse,
    "case_statuses_reopen_status_fk": CaseStatusStatusInUse,
}

# Named constraints -> the error a client sees. Unknown constraint names fall back to a generic conflict.
CONSTRAINT_ERRORS: dict[str, Callable[[], EvaError]] = {
    "case_blobs_unique": CaseBlobAlreadyAttached,
    "interaction_blobs_unique": CaseInteractionBlobAlreadyAttached,
    "case_statuses_name_unique": CaseStatusStatusNameAlreadyExists,
    "cases_backend_id_unique": partial(
        CaseCaseWithBackendIDAlreadyExists, "A case with this BackendSystemID and BackendID already exists."
    ),
    "cases_topic_fk": CaseTopicNotFound,
    "cases_status_fk": CaseStatusNotFound,
    "cases_customer_fk": UserNotFound,
    "cases_assignee_fk": partial(UserNotFound, "The assignee does not exist."),
    "interactions_case_fk": CaseNotFound,
    "case_blobs_case_fk": CaseNotFound,
    "case_related_items_case_fk": CaseNotFound,
    "case_custom_field_values_case_fk": CaseNotFound,
    "interaction_blobs_interaction_fk": CaseInteractionNotFound,
    "cases_closing_time_matches_status": CaseStatusChangedConcurrently,
    "case_statuses_is_closed_fixed_while_in_use": CaseStatusCannotChangeIsClosedOfStatusInUse,
    "interactions_backend_id_unique": CaseInteractionBackendIDAlreadyExists,
    "organization_units_backend_id_unique": OrganizationUnitBackendIDAlreadyExists,
    "custom_fields_name_unique": CustomFieldsDuplicateName,
    "custom_fields_backend_id_unique": CustomFieldsDuplicateBackendID,
    "case_custom_field_values_field_fk": CustomFieldNotFound,
    "case_topics_sibling_name_unique": CaseTopicTopicNameAlreadyExists,
    "service_level_policies_calendar_fk": ServiceLevelCalendarNotFound,
    "case_statuses_auto_close_status_fk": CaseStatusNotFound,
    "case_statuses_reopen_status_fk": CaseStatusNotFound,
}


def translate_db_error(exc: BaseException) -> EvaError | None:
    """An asyncpg error caused by the request's data becomes the matching EVA error; others stay faults."""
    if not isinstance(exc, asyncpg.PostgresError):
        return None
    constraint = getattr(exc, "constraint_name", None)
    # A foreign key fails both ways: a row pointing at nothing, or a delete of a row still pointed at.
    referenced = isinstance(exc, asyncpg.ForeignKeyViolationError) and "still referenced" in (exc.detail or "")
    if referenced and constraint in STILL_REFERENCED_ERRORS:
        return STILL_REFERENCED_ERRORS[constraint]()
    if constraint and constraint in CONSTRAINT_ERRORS and not referenced:
        return CONSTRAINT_ERRORS[constraint]()
    if isinstance(exc, asyncpg.UniqueViolationError):
        return Conflict("The request conflicts with existing data.", "UniqueConstraintViolation")
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return NotFound("The request refers to something that does not exist.", "ReferenceNotFound")
    if isinstance(exc, asyncpg.CheckViolationError):
        return ValidationFailed("A value in the request is out of bounds.", "CheckViolation")
    sqlstate = getattr(exc, "sqlstate", "") or ""
    if sqlstate.startswith("22"):  # data exception: NUL in text, out-of-range numbers, bad encodings ...
        return ValidationFailed("A value in the request cannot be stored (invalid characters or out of range).")
    return None


async def fetch_secret(conn: asyncpg.Connection, name: str, fresh: bytes) -> bytes:
    """The shared secret `name`, created from `fresh` by whichever instance asks first."""
    value: Any = await conn.fetchval(
        """
        WITH ins AS (
            INSERT INTO app_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING value
        )
        SELECT value FROM ins UNION ALL SELECT value FROM app_secrets WHERE name = $1
        LIMIT 1
        """,
        name,
        fresh,
    )
    return bytes(value)


async def read_secret(conn: asyncpg.Connection, name: str) -> bytes | None:
    """The shared secret `name`, if an instance made it."""
    value: Any = await conn.fetchval("SELECT value FROM app_secrets WHERE name = $1", name)
    return bytes(value) if value is not None else None


def contains_pattern(text: str | None) -> str | None:
    """A case-insensitive `contains` LIKE pattern for user text (its own % and _ match literally)."""
    if text is None:
        return None
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
