"""One event delivery: EVA's body, its signature, and the HTTP POST to the endpoint's checked address.

The signature is EVA's two-key scheme (README, "Event exports"): `X-Eva-Signing-Headers` lists the signed headers;
header hash = uppercase hex SHA-256 of their `Name=Value` lines (names as listed, sorted by name then value,
joined by `\\n`, no trailing newline, UTF-8); body hash = uppercase hex SHA-256 of the raw body;
`X-EVA-Signing-N` = uppercase hex SHA-256 of header hash + body hash + SecretKeyN."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

from evacase.domain.endpoints import UnsafeEndpoint, parse_endpoint, resolve_endpoint

USER_AGENT = "evacase-event-exports/1"
SIGNED_HEADERS = ("Content-Type", "User-Agent", "X-EVA-Event-UID", "X-EVA-Event-Type", "X-EVA-Attempt")
MAX_RESPONSE_BYTES = 4096  # of a receiver's answer, kept for the log and the Test services
DEFAULT_TIMEOUT_SECONDS = 5

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class Event:
    """What a delivery says: EVA's event fields (Identifier and IDs in Data as numbers; strings on request)."""

    uid: str
    creation_time: dt.datetime
    target: str
    event_type: str
    identifier: int | None
    backend_id: str | None = None
    backend_system_id: str | None = None
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Delivery:
    """Where and how one event goes: the endpoint, its authorization headers, its keys and options."""

    endpoint: str
    key1: str
    key2: str
    headers: Mapping[str, str] = field(default_factory=dict)
    use_string_ids: bool = False
    ignore_null_values: bool = True
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    region: str | None = None


@dataclass(frozen=True)
class Outcome:
    success: bool
    status_code: int  # 0: no HTTP answer
    body: str | None
    error: str | None
    duration_ms: float


def body_of(event: Event, delivery: Delivery, attempt: int) -> bytes:
    """EVA's body for one delivery of `event`."""
    ids = str if delivery.use_string_ids else (lambda value: value)
    data = None
    if event.data is not None:
        data = {k: ids(v) if k.endswith("ID") and isinstance(v, int) else v for k, v in event.data.items()}
    body: dict[str, Any] = {
        "UID": event.uid,
        "CreationTime": event.creation_time.astimezone(dt.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "TimeZone": None,
        "Target": event.target,
        "EventType": event.event_type,
        "Identifier": ids(event.identifier) if event.identifier is not None else None,
        "BackendID": event.backend_id,
        "BackendSystemID": event.backend_system_id,
        "Region": delivery.region,
        "Data": data,
        "Attempt": attempt,
    }
    if delivery.ignore_null_values:
        body = {k: v for k, v in body.items() if v is not None}
    return _encoder.encode(body)


def sha256_upper(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest().upper()


def header_hash(headers: Mapping[str, str], signed: list[str]) -> str:
    lines = sorted((name, headers[name]) for name in signed)
    return sha256_upper("\n".join(f"{name}={value}" for name, value in lines).encode())


def signature(headers: Mapping[str, str], signed: list[str], body: bytes, key: str) -> str:
    return sha256_upper((header_hash(headers, signed) + sha256_upper(body) + key).encode())


def signed_request_headers(event: Event, delivery: Delivery, attempt: int, body: bytes) -> dict[str, str]:
    """The headers of one delivery: the endpoint's own, then the event's and the signature (never overridden)."""
    headers = dict(delivery.headers)
    headers.update(
        {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-EVA-Event-UID": event.uid,
            "X-EVA-Event-Type": event.event_type,
            "X-EVA-Attempt": str(attempt),
        }
    )
    signed = list(SIGNED_HEADERS)
    headers["X-Eva-Signing-Headers"] = ",".join(signed)
    headers["X-EVA-Signing-1"] = signature(headers, signed, body, delivery.key1)
    headers["X-EVA-Signing-2"] = signature(headers, signed, body, delivery.key2)
    return headers


def authorization_headers(auth: Mapping[str, Any] | None) -> dict[str, str]:
    """The headers an endpoint's Authorization yields: its extra Headers, then the one authorization scheme."""
    if not auth:
        return {}
    headers = dict(auth.get("Headers") or {})
    if auth.get("StaticBearerToken"):
        headers["Authorization"] = f"Bearer {auth['StaticBearerToken']}"
    elif auth.get("StaticUnschemedToken"):
        headers["Authorization"] = str(auth["StaticUnschemedToken"])
    elif auth.get("BasicUsername") is not None and auth.get("BasicPassword") is not None:
        pair = f"{auth['BasicUsername']}:{auth['BasicPassword']}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    return headers


async def post(
    client: httpx.AsyncClient, delivery: Delivery, headers: Mapping[str, str], body: bytes, allow_insecure: bool
) -> Outcome:
    """POST `body` to the endpoint at an address checked just now (no redirects; at most MAX_RESPONSE_BYTES of
    the answer read; the whole exchange within the timeout). Success is any 2xx."""
    started = time.perf_counter()

    def outcome(success: bool, status: int, text: str | None, error: str | None) -> Outcome:
        return Outcome(success, status, text, error, round((time.perf_counter() - started) * 1000, 2))

    try:
        endpoint = parse_endpoint(delivery.endpoint, allow_insecure)
        address = (await resolve_endpoint(endpoint, allow_insecure))[0]
    except UnsafeEndpoint as exc:
        return outcome(False, 0, None, f"refused: {exc}")
    url = httpx.URL(delivery.endpoint)
    host_header = url.netloc.decode("ascii")
    pinned = url.copy_with(host=address)  # the checked address: a later DNS answer cannot redirect it
    extensions = {"sni_hostname": endpoint.host} if endpoint.scheme == "https" else {}
    request = client.build_request(
        "POST",
        pinned,
        content=body,
        headers={**headers, "Host": host_header},
        extensions={**extensions, "timeout": httpx.Timeout(delivery.timeout).as_dict()},
    )
    try:
        async with asyncio.timeout(delivery.timeout):
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                received = bytearray()
                async for chunk in response.aiter_raw():
                    received += chunk
                    if len(received) >= MAX_RESPONSE_BYTES:
                        break
            finally:
                await response.aclose()
    except TimeoutError:
        return outcome(False, 0, None, f"timed out after {delivery.timeout:g} s")
    except httpx.HTTPError as exc:
        return outcome(False, 0, None, f"{type(exc).__name__}: {str(exc)[:200]}")
    text = bytes(received[:MAX_RESPONSE_BYTES]).decode("utf-8", "replace")
    success = 200 <= response.status_code < 300
    return outcome(success, response.status_code, text, None if success else f"HTTP {response.status_code}")
