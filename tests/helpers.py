"""Helpers for calling evacase in tests: tokens for each kind of caller and a thin client."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

import evacase
from evacase.auth import UserType, mint_token
from evacase.db import load_queries

SECRET = "evacase-test-secret-0123456789abcdef"
# Every functionality name an evacase service asks for (tests/test_properties.py states which one each needs).
FUNCTIONALITY_NAMES = (
    "Cases",
    "CaseTopics",
    "CaseStatuses",
    "OrganizationUnits",
    "PushCases",
    "CustomFields",
    "CustomFieldTypes",
    "EndpointConfigurations",
    "EventExportConfiguration",
    "ServiceLevelPolicies",
    "AssignmentRules",
)


def token(
    user_id: int,
    user_type: int = UserType.CUSTOMER,
    functionalities: list[str] | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    **extra: Any,
) -> str:
    return mint_token(
        SECRET,
        user_id=user_id,
        user_type=user_type,
        functionalities=functionalities,
        first_name=first_name,
        last_name=last_name,
        **extra,
    )


def customer(user_id: int, first: str | None = "Jane", last: str | None = "Doe") -> str:
    return token(user_id, UserType.CUSTOMER, first_name=first, last_name=last)


def employee(user_id: int, functionalities: list[str] | None = None, **extra: Any) -> str:
    return token(user_id, UserType.EMPLOYEE, functionalities, "Pedro", "Pascal", **extra)


@dataclass
class Api:
    client: httpx.AsyncClient

    async def raw(self, service: str, body: bytes | str | None, tok: str | None, **headers: str) -> httpx.Response:
        h = {k.replace("_", "-"): v for k, v in headers.items()}
        if tok is not None:
            h["Authorization"] = f"Bearer {tok}"
        content = body.encode() if isinstance(body, str) else body
        return await self.client.post(f"/message/{service}", content=content, headers=h)

    async def call(self, service: str, body: dict[str, Any] | None, tok: str | None, **headers: str) -> httpx.Response:
        h = {k.replace("_", "-"): v for k, v in headers.items()}
        if tok is not None:
            h["Authorization"] = f"Bearer {tok}"
        return await self.client.post(f"/message/{service}", json=body if body is not None else {}, headers=h)

    async def ok(self, service: str, body: dict[str, Any] | None, tok: str | None, **headers: str) -> Any:
        """Call and insist on 200; the decoded body."""
        r = await self.call(service, body, tok, **headers)
        assert r.status_code == 200, (service, r.status_code, r.text)
        return r.json()

    async def error(self, service: str, body: dict[str, Any] | None, tok: str | None, status: int) -> dict[str, Any]:
        """Call and insist on an EVA error body with `status`; the Error object."""
        r = await self.call(service, body, tok)
        assert r.status_code == status, (service, r.status_code, r.text)
        err = r.json()["Error"]
        assert err["RequestID"] == r.headers["EVA-Request-ID"]
        return err


class CountingConnection:
    """The real connection, counting the statements sent through it."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.statements: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._conn, name)
        if name in ("execute", "executemany", "fetch", "fetchrow", "fetchval", "copy_records_to_table"):

            async def counted(query: str, *args: Any, **kwargs: Any) -> Any:
                self.statements.append(query)
                return await attr(query, *args, **kwargs)

            return counted
        return attr


def statement_name(sql: str) -> str:
    """The name a statement has in `evacase/sql/*.sql` (the text itself when it is none of them)."""
    if not _STATEMENT_NAMES:
        sql_dir = Path(evacase.__file__).parent / "sql"
        for path in sql_dir.glob("*.sql"):
            _STATEMENT_NAMES.update({text: name for name, text in load_queries(path.stem).items()})
    return _STATEMENT_NAMES.get(sql, sql)


_STATEMENT_NAMES: dict[str, str] = {}
