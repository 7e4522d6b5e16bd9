"""One request, start to end: find the operation, authenticate, authorize, decode, run in a transaction, encode.

Knows nothing of HTTP frameworks: app.py hands it the service name, the body and a few headers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
import msgspec
import structlog

from evacase.auth import ANONYMOUS, Caller
from evacase.context import Context
from evacase.db import ClientDataError, is_connection_failure, is_timeout, translate_db_error
from evacase.domain.users import record_user
from evacase.errors import EvaError, Forbidden, NotFound, ServiceUnavailable, ValidationFailed, internal_error
from evacase.idempotency import IdempotentRequest, Replay, check_key, request_hash
from evacase.messages import string_ids
from evacase.registry import Operation
from evacase.runtime import Runtime

log = structlog.get_logger("evacase")
_encoder = msgspec.json.Encoder()


@dataclass(slots=True)
class Incoming:
    service: str
    body: bytes
    request_id: str
    authorization: str | None = None
    string_ids: bool = False
    external_ids: bool = False
    backend_system_id: str | None = None
    idempotency_key: str | None = None
    origin: str = "http://localhost"  # scheme and host the request came to


@dataclass(slots=True)
class Outcome:
    status: int
    body: bytes
    service: str | None = None
    caller: Caller | None = None
    error_code: str | None = None
    retry_after: int | None = None  # seconds, for a 503
    replayed: bool = False  # the stored answer to an earlier request with the same Idempotency-Key


def database_unavailable(exc: BaseException) -> ServiceUnavailable:
    log.warning("database_unavailable", error=type(exc).__name__, detail=str(exc)[:200])
    return ServiceUnavailable("The database is not reachable; try again shortly.", "DatabaseUnavailable")


def database_timeout(timeout: float) -> ServiceUnavailable:
    log.warning("database_timeout", timeout_s=timeout)
    return ServiceUnavailable(
        f"The database did not answer within {timeout:g} seconds; try again shortly.", "DatabaseTimeout"
    )


class _Committing(Exception):
    """A connection failure while COMMIT was under way: whether the change was made is unknown."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def authorize(op: Operation, caller: Caller) -> None:
    access = op.access
    if not caller.has_type(access.user_types):
        raise Forbidden("You are not authorized to execute this request.")
    if access.functionality and not (access.exempt and caller.user_type & access.exempt):
        name, scope = access.functionality
        if not caller.has_functionality(name, scope):
            scope_name = scope.name.title() if scope.name else "None"
            raise Forbidden(
                f"You are not authorized to execute this request: it requires the functionality {name}:{scope_name}.",
                data={"Functionality": f"{name}:{scope_name}"},
            )


def decode(op: Operation, body: bytes) -> Any:
    try:
        return op.decoder.decode(body if body.strip() else b"{}")
    except msgspec.ValidationError as exc:
        raise op.constraints.explain(exc) from None
    except msgspec.DecodeError:
        raise ValidationFailed("The request body is not valid JSON.", "MalformedJSON") from None
    except RecursionError:  # msgspec gives up on JSON nested about 1,000 levels deep
        raise ValidationFailed("The request body is nested too deeply.", "MalformedJSON") from None


async def run(
    rt: Runtime, op: Operation, caller: Caller, request: Any, incoming: Incoming, idem: IdempotentRequest | None
) -> Any:
    """The handler on a pooled connection, in a transaction when it writes, all within the database timeout
    (waiting for a connection included; PostgreSQL's statement_timeout stops the statement on its side)."""
    task = asyncio.current_task()
    assert task is not None
    rt.deadlines.start(task, rt.db_timeout)
    try:
        return await _attempts(rt, op, caller, request, incoming, idem)
    except asyncio.CancelledError:
        if rt.deadlines.stop(task):  # cancelled by its deadline, not by the client going away
            raise database_timeout(rt.db_timeout) from None
        raise
    finally:
        rt.deadlines.stop(task)  # idempotent: leaves the guarded region whichever way it ends


async def _attempts(
    rt: Runtime, op: Operation, caller: Caller, request: Any, incoming: Incoming, idem: IdempotentRequest | None
) -> Any:
    """A connection that fails (PostgreSQL restarted, the backend was terminated) is thrown away with every idle
    one of its pool, and the request runs once more on a fresh connection when that cannot repeat an effect: a
    read, or a transaction whose COMMIT was never sent (the server rolled it back)."""
    for attempt in (1, 2):
        try:
            return await _run_once(rt, op, caller, request, incoming, idem)
        except _Committing as exc:
            raise database_unavailable(exc.cause) from None
        except ClientDataError:  # an argument asyncpg cannot encode (out of range for its type)
            raise ValidationFailed("A value in the request cannot be stored (out of range).") from None
        except Exception as exc:
            if is_timeout(exc):
                raise database_timeout(rt.db_timeout) from None
            if not is_connection_failure(exc):
                raise
            await rt.pool.expire_connections()  # its siblings most likely broke the same way
            # A one-statement write outside a transaction may have committed: only the client can retry it.
            if attempt == 2 or (op.writes and op.one_statement and idem is None):
                raise database_unavailable(exc) from None
            log.info("database_retry", error=type(exc).__name__)
    raise AssertionError("unreachable")


def _connection_in_doubt(exc: BaseException) -> bool:
    """The connection broke, or was interrupted mid-operation (a timeout cancels the awaiting task)."""
    if isinstance(exc, _Committing | asyncio.CancelledError):
        return True
    return is_connection_failure(exc) or is_timeout(exc)


async def _run_once(
    rt: Runtime, op: Operation, caller: Caller, request: Any, incoming: Incoming, idem: IdempotentRequest | None
) -> Any:
    acting_id = caller.user_id if caller is ANONYMOUS else rt.known_users.acting_id(caller)
    needs_user_write = acting_id is None
    try:
        async with rt.pool.acquire() as conn:
            try:
                if needs_user_write and op.own_transactions and idem is None:
                    # The caller's profile in a transaction of its own: the handler then writes as it chooses,
                    # outside any transaction of ours (a blob's row is committed before its content is stored).
                    async with conn.transaction():
                        acting_id = await record_user(conn, caller)
                if (op.writes and (not op.one_statement or idem is not None)) or acting_id is None:
                    tx = conn.transaction()
                    await tx.start()
                    try:
                        if acting_id is None:
                            acting_id = await record_user(conn, caller)
                        replay = await idem.claim(conn, rt.idempotency_ttl) if idem is not None else None
                        if replay is not None:
                            response = replay
                        else:
                            response = await op.handler(context(conn, caller, acting_id, incoming, rt), request)
                            if idem is not None:  # the answer, committed with the effect or not at all
                                await idem.store(conn, 200, _encoder.encode(response))
                    except Exception as exc:
                        if not _connection_in_doubt(exc):
                            await tx.rollback()  # a refusal: the connection is fine, its transaction undone
                        raise
                    try:
                        await tx.commit()
                    except Exception as exc:
                        if is_connection_failure(exc):
                            raise _Committing(exc) from exc
                        raise
                else:
                    response = await op.handler(context(conn, caller, acting_id, incoming, rt), request)
            except BaseException as exc:
                if _connection_in_doubt(exc):
                    conn.terminate()  # never hand a connection in an unknown state to the next request
                raise
    except asyncpg.PostgresError as exc:
        if is_connection_failure(exc) or is_timeout(exc):
            raise
        translated = translate_db_error(exc)
        if translated is None:
            raise
        raise translated from None
    if needs_user_write and acting_id is not None:
        rt.known_users.remember(caller, acting_id)
    return response


def context(
    conn: asyncpg.Connection, caller: Caller, acting_id: int | None, incoming: Incoming, rt: Runtime
) -> Context:
    """The handler's context; a customer token that names a pushed customer acts as that customer."""
    if acting_id is not None and acting_id != caller.user_id:
        caller = replace(caller, user_id=acting_id)
    return Context(
        conn,
        caller,
        incoming.request_id,
        rt.page_tokens,
        incoming.backend_system_id,
        rt.catalogue,
        rt.blobs,
        incoming.origin,
        rt.print_targets,
        rt.exports,
    )


async def dispatch(rt: Runtime, incoming: Incoming) -> Outcome:
    op = rt.registry.get(incoming.service)
    outcome = Outcome(500, b"", op.name if op else None)
    try:
        if op is None:
            raise NotFound(f"The service {incoming.service!r} does not exist.", "UnknownService")
        if op.access.anonymous and not (incoming.authorization or "").strip():
            caller = ANONYMOUS
        else:
            caller = rt.verifier.verify(incoming.authorization)
        outcome.caller = caller
        authorize(op, caller)
        if incoming.external_ids:
            raise ValidationFailed(
                "EVA-IDs-Mode: ExternalIDs is not supported; send evacase's IDs (StringIDs mode is supported).",
                "ExternalIDsModeNotSupported",
            )
        request = decode(op, incoming.body)
        idem = None
        if op.writes and incoming.idempotency_key is not None:
            key = check_key(incoming.idempotency_key)
            idem = IdempotentRequest(caller.user_id, key, op.name, request_hash(op.name, request))
        response = await run(rt, op, caller, request, incoming, idem)
        if isinstance(response, Replay):
            outcome.status, outcome.replayed = response.status, True
            stored = response.body
            outcome.body = string_ids(stored) if incoming.string_ids else stored
        else:
            outcome.body = _encoder.encode(response)
            if incoming.string_ids:
                outcome.body = string_ids(outcome.body)
            outcome.status = 200
    except EvaError as exc:
        outcome.status, outcome.error_code = exc.status, exc.code
        outcome.body = exc.body(incoming.request_id)
        if isinstance(exc, ServiceUnavailable):
            outcome.retry_after = exc.retry_after
    except Exception:
        log.exception("unhandled_error", request_id=incoming.request_id, service=outcome.service)
        err = internal_error()
        outcome.status, outcome.error_code = err.status, err.code
        outcome.body = err.body(incoming.request_id)
    return outcome
