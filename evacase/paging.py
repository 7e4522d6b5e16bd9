"""Keyset pagination behind opaque, signed PageTokens (EVA's InitialPageConfig / PageToken protocol)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from evacase.errors import ValidationFailed
from evacase.messages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

T = TypeVar("T")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
BIGINT_MAX = 2**63 - 1


class _TokenBody(msgspec.Struct, array_like=True):
    op: str  # the operation the token belongs to
    scope: int | None  # the list's parent (e.g. the CaseID), if any
    forward: bool  # True: rows after `key`; False: rows before `key`
    key: list[int]  # the sort key of the row next to the page: (id,) or (time in microseconds, id)
    limit: int
    filter: dict[str, Any]


_encode_body = msgspec.json.Encoder().encode
_decode_body = msgspec.json.Decoder(_TokenBody).decode


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def to_micros(value: dt.datetime) -> int:
    return (value - EPOCH) // dt.timedelta(microseconds=1)


def eva_time_micros(text: str) -> int:
    """A keyset key from a time as the query formatted it (eva_time: milliseconds, `Z`). Exact for columns that
    hold milliseconds (timestamptz(3)), which is why lists may read their keys back from the text they show."""
    return to_micros(dt.datetime.fromisoformat(text))


def from_micros(value: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=value)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What one page asks for: rows after (forward) or before `key` in list order, at most `limit`.

    Lists are ordered by a descending key of integers; the first page's key sorts before every row."""

    op: str
    scope: int | None
    forward: bool
    key: tuple[int, ...] | None
    limit: int
    filter: dict[str, Any]
    first: bool

    def id_key(self) -> int:
        """The keyset bound of a list ordered by ID."""
        return self.key[0] if self.key else BIGINT_MAX

    def time_id_key(self) -> tuple[dt.datetime, int]:
        """The keyset bound of a list ordered by (time, ID)."""
        if not self.key:
            return dt.datetime.max.replace(tzinfo=dt.UTC), BIGINT_MAX
        return from_micros(self.key[0]), self.key[1]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: list[T]
    next_token: str | None
    previous_token: str | None

    def tokens(self) -> dict[str, str | None]:
        """The PagedResponse fields."""
        return {"NextPageToken": self.next_token, "PreviousPageToken": self.previous_token}


class PageTokens:
    """Signs and checks page tokens with a key every instance shares (kept in the database)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self._key, payload, hashlib.sha256).digest()[:16])

    def encode(self, req: PageRequest, forward: bool, key: tuple[int, ...]) -> str:
        body = _TokenBody(req.op, req.scope, forward, list(key), req.limit, req.filter)
        payload = _encode_body(body)
        return f"{_b64(payload)}.{self._sign(payload)}"

    def decode(self, token: str, op: str, scope: int | None) -> PageRequest:
        invalid = ValidationFailed("PageToken is not valid for this request.", "InvalidPageToken")
        payload_text, _, mac = token.partition(".")
        try:
            payload = _unb64(payload_text)
        except ValueError:
            raise invalid from None
        if not mac or not hmac.compare_digest(mac.encode(), self._sign(payload).encode()):
            raise invalid
        try:
            body = _decode_body(payload)
        except msgspec.DecodeError:
            raise invalid from None
        if body.op != op or body.scope != scope or not body.key or not 1 <= body.limit <= MAX_PAGE_SIZE:
            raise invalid
        return PageRequest(op, scope, body.forward, tuple(body.key), body.limit, body.filter, first=False)

    def request(
        self,
        op: str,
        page_token: str | None,
        limit: int | None,
        filter: dict[str, Any],
        scope: int | None = None,
    ) -> PageRequest:
        """The page a request asks for: its PageToken if it has one, else the first page of InitialPageConfig."""
        if page_token:
            return self.decode(page_token, op, scope)
        size = DEFAULT_PAGE_SIZE if limit is None else min(limit, MAX_PAGE_SIZE)
        return PageRequest(op, scope, True, None, size, filter, first=True)

    def page(self, req: PageRequest, rows: Sequence[T], key_of: Callable[[T], tuple[int, ...]]) -> Page[T]:
        """Shape `limit + 1` fetched rows (in fetch order) into a page with its neighbours' tokens."""
        more = len(rows) > req.limit
        items = list(rows[: req.limit])
        if not req.forward:
            items.reverse()
        has_next = more if req.forward else True
        has_previous = (not req.first) if req.forward else more
        next_token = self.encode(req, True, key_of(items[-1])) if has_next and items else None
        previous_token = self.encode(req, False, key_of(items[0])) if has_previous and items else None
        return Page(items, next_token, previous_token)
