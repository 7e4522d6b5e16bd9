"""Hostile input for every service in the registry, field by field: nesting, NUL, lone surrogates, huge and
non-finite numbers, extreme dates, huge strings, duplicate keys, odd bodies and content types. Every answer is
an EVA error below 500 (or a 200), and a refused request writes nothing. A service added later is covered by
being registered (issue 11)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec
import pytest

from evacase.auth import UserType
from evacase.services import build_registry
from tests.dbstate import fingerprint
from tests.helpers import Api, customer, token

REGISTRY = build_registry()
STAFF = token(
    4,
    UserType.EMPLOYEE,
    ["Cases", "CaseTopics", "CaseStatuses", "OrganizationUnits", "PushCases", "CustomFields", "CustomFieldTypes"],
)
CUSTOMER = customer(1)

# JSON texts put in place of one field's value.
HOSTILE_VALUES = [
    '"\\u0000"',
    '"a\\ud800b"',  # a lone surrogate
    '"\\udfff"',
    "18446744073709551616",
    "-9223372036854775809",
    "1e999",
    "-1e999",
    '"NaN"',
    '"-Infinity"',
    "1.5e308",
    "-0.0",
    '"9999-12-31T23:59:59-14:00"',
    '"0001-01-01T00:00:00+14:00"',
    '"' + "x" * 100_000 + '"',
    "[" * 2_000 + "]" * 2_000,
    '{"a":' * 200 + "1" + "}" * 200,
    "true",
    "{}",
    "[]",
    "null",
]
# Whole bodies.
HOSTILE_BODIES = [b"[]", b'"text"', b"0", b"\xff\xfe\x00", b"{", b'{"a":1,}', b"{}" * 3]
CONTENT_TYPES = [
    "text/plain",
    "multipart/form-data; boundary=x",
    "application/xml",
    "application/json; charset=latin-1",
]


def plausible(info: msgspec.inspect.Type) -> Any:
    """A value of the type that its checks accept, so that a hostile value elsewhere is what gets judged."""
    t = msgspec.inspect
    if isinstance(info, t.IntType):
        return max(1, int(info.ge or 1))
    if isinstance(info, t.FloatType):
        return 1.0
    if isinstance(info, t.StrType):
        text = "Plausible text"
        return text[: info.max_length] if info.max_length else text
    if isinstance(info, t.BoolType):
        return False
    if isinstance(info, t.UUIDType):
        return str(uuid.UUID(int=1))
    if isinstance(info, t.DateTimeType):
        return "2025-01-01T00:00:00Z"
    if isinstance(info, t.ListType | t.SetType):
        return []
    if isinstance(info, t.DictType):
        return {}
    if isinstance(info, t.LiteralType):
        return info.values[0]
    if isinstance(info, t.EnumType):
        return next(iter(info.cls)).value
    if isinstance(info, t.StructType):
        return {f.encode_name: plausible(f.type) for f in info.fields if f.required}
    if isinstance(info, t.UnionType):
        chosen = [x for x in info.types if not isinstance(x, t.NoneType | t.UnsetType)]
        return plausible(chosen[0]) if chosen else None
    return "x"


def base_body(op_name: str) -> dict[str, Any]:
    op = REGISTRY.get(op_name)
    assert op is not None
    info = msgspec.inspect.type_info(op.request_type)
    assert isinstance(info, msgspec.inspect.StructType)
    body = {f.encode_name: plausible(f.type) for f in info.fields if f.required}
    return body


def with_raw(body: dict[str, Any], field: str, raw_value: str) -> bytes:
    """`body` as JSON with `field` set to the JSON text `raw_value` (which may be invalid for Python's json)."""
    others = {k: v for k, v in body.items() if k != field}
    encoded = msgspec.json.encode(others)
    inner = encoded[1:-1]
    return b"{" + inner + (b"," if inner else b"") + msgspec.json.encode(field) + b":" + raw_value.encode() + b"}"


def caller_for(op_name: str) -> str:
    op = REGISTRY.get(op_name)
    assert op is not None
    return CUSTOMER if op_name.startswith("Customer") or op.access.user_types == UserType.CUSTOMER else STAFF


async def seed(db: asyncpg.Connection) -> None:
    await db.execute("INSERT INTO users (id, user_type) VALUES (1, 2), (4, 1)")
    await db.execute("INSERT INTO cases (id, customer_id, topic_id, status_id, title) VALUES (1, 1, 1, 1, 'A case')")
    await db.execute("INSERT INTO interactions (id, case_id, type, text, created_by) VALUES (1, 1, 0, 'hi', 1)")


async def expect_refused_or_fine(
    api: Api, db: asyncpg.Connection, service: str, body: bytes, tok: str, **h: str
) -> int:
    before = await fingerprint(db)
    r = await api.raw(service, body, tok, **h)
    assert r.status_code < 500, (service, body[:200], r.status_code, r.text[:300])
    if r.status_code != 200:
        error = r.json()["Error"]
        assert set(error) <= {"Code", "Type", "Message", "RequestID", "Data"}, error
        assert await fingerprint(db) == before, (service, body[:200], r.text[:300])
    return r.status_code


@pytest.mark.parametrize("service", REGISTRY.names())
async def test_hostile_values_in_every_field_are_refused_without_a_write(
    api: Api, db: asyncpg.Connection, service: str
) -> None:
    await seed(db)
    tok = caller_for(service)
    await api.call("Ping", {}, tok)
    op = REGISTRY.get(service)
    assert op is not None
    body = base_body(service)
    fields = [f.encode_name for f in msgspec.structs.fields(op.request_type)] or ["ID"]
    for field in fields:
        for value in HOSTILE_VALUES:
            await expect_refused_or_fine(api, db, service, with_raw(body, field, value), tok)
        # A duplicate key: the last one counts, whatever it holds.
        duplicated = with_raw(body, field, '"first"')[:-1] + b"," + msgspec.json.encode(field) + b':"\\u0000"}'
        await expect_refused_or_fine(api, db, service, duplicated, tok)
    for raw in HOSTILE_BODIES:
        await expect_refused_or_fine(api, db, service, raw, tok)
    for content_type in CONTENT_TYPES:
        await expect_refused_or_fine(api, db, service, msgspec.json.encode(body), tok, Content_Type=content_type)
