"""The one registry of operations: name -> request/response Structs, who may call it, handler."""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from evacase.auth import ANY_USER, Scope, UserType
from evacase.validation import ConstraintTexts

if TYPE_CHECKING:
    from evacase.context import Context

Handler = Callable[["Context", Any], Awaitable[Any]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class Access:
    """Who may call: a caller whose user type shares a bit with `user_types` and who holds `functionality`
    (unless its user type is in `exempt`, e.g. customers picking a topic). `anonymous`: no token needed (a token
    sent is still checked)."""

    user_types: int = ANY_USER
    functionality: tuple[str, Scope] | None = None
    exempt: int = 0
    anonymous: bool = False


def staff(functionality: str, scope: Scope) -> Access:
    """The employee-side rule of EVA's contract: an Employee or Api user holding `functionality:scope`."""
    return Access(user_types=UserType.EMPLOYEE | UserType.API, functionality=(functionality, scope))


@dataclass(frozen=True)
class Operation:
    name: str
    request_type: type[msgspec.Struct]
    response_type: type[msgspec.Struct]
    handler: Handler
    access: Access
    writes: bool
    decoder: msgspec.json.Decoder[Any]
    constraints: ConstraintTexts
    # The handler's write is atomic on its own (one SQL statement, or a transaction the handler opens when that
    # statement finds its rows changed): the dispatcher adds no BEGIN/COMMIT round trips, and never runs it again
    # after a connection failure (the write may have committed: only the client can retry).
    one_statement: bool = False
    # The handler opens its own transactions, in an order that matters (a blob's row commits before its content
    # goes to an outside store): a caller's first request has its profile recorded in a transaction of its own
    # before the handler runs, never in one around it. Implies one_statement's rules.
    own_transactions: bool = False


@dataclass(frozen=True)
class _Spec:
    handler: Handler
    access: Access
    writes: bool
    one_statement: bool
    own_transactions: bool = False


class OperationSet:
    """The operations one services module declares, in its own `ops`; `services/__init__.py` composes the sets
    into a Registry explicitly (no discovery, no registry filled by import side effects)."""

    def __init__(self) -> None:
        self.specs: list[_Spec] = []

    def operation(
        self, access: Access, *, writes: bool, one_statement: bool = False, own_transactions: bool = False
    ) -> Callable[[H], H]:
        """Declare a handler `async def snake_name(ctx, req: ServiceName) -> ServiceNameResponse`.

        Writes run in one transaction. `one_statement=True` declares that the handler sends exactly one SQL
        statement (PostgreSQL makes it atomic by itself), which saves the BEGIN and COMMIT round trips; the
        registry test holds such handlers to it. `own_transactions=True`: the handler opens its transactions
        itself (see Operation)."""

        def declare(handler: H) -> H:
            self.specs.append(_Spec(handler, access, writes, one_statement or own_transactions, own_transactions))
            return handler

        return declare


class Registry:
    """Service name (case-insensitively) -> Operation."""

    def __init__(self, *sets: OperationSet) -> None:
        self._by_key: dict[str, Operation] = {}
        for operation_set in sets:
            for spec in operation_set.specs:
                self.add(
                    spec.handler,
                    spec.access,
                    writes=spec.writes,
                    one_statement=spec.one_statement,
                    own_transactions=spec.own_transactions,
                )

    def operation(self, access: Access, *, writes: bool, one_statement: bool = False) -> Callable[[H], H]:
        """Add a handler directly (tests build small registries this way)."""

        def register(handler: H) -> H:
            self.add(handler, access, writes=writes, one_statement=one_statement)
            return handler

        return register

    def add(
        self,
        handler: Handler,
        access: Access,
        *,
        writes: bool,
        one_statement: bool = False,
        own_transactions: bool = False,
    ) -> None:
        hints = typing.get_type_hints(handler)
        request_type = hints["req"]
        response_type = hints["return"]
        name = request_type.__name__
        key = name.lower()
        if key in self._by_key:
            raise ValueError(f"operation {name} is registered twice")
        self._by_key[key] = Operation(
            name=name,
            request_type=request_type,
            response_type=response_type,
            handler=handler,
            access=access,
            writes=writes,
            decoder=msgspec.json.Decoder(request_type, strict=False),
            constraints=ConstraintTexts.of(request_type),
            one_statement=one_statement or own_transactions,
            own_transactions=own_transactions,
        )

    def get(self, name: str) -> Operation | None:
        return self._by_key.get(name.lower())

    def names(self) -> list[str]:
        return sorted(op.name for op in self._by_key.values())
