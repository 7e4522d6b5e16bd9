"""Rules of event-export configurations (EVA's EndpointConfiguration and EventExportConfiguration), callable
without HTTP: what an Authorization may hold, which event types and organization units a configuration takes,
and the process-wide settings of deliveries."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

from evacase.domain.deliveries import (
    DEFAULT_TIMEOUT_SECONDS,
    Delivery,
    Event,
    Outcome,
    authorization_headers,
    body_of,
    post,
    signed_request_headers,
)
from evacase.domain.events import CASE_EVENT_TYPES, CASES_TARGET
from evacase.domain.secrets import Sealer, SecretUnavailable

# Header names a configuration may not set: the signature's and the body's own, and those the transport owns.
RESERVED_HEADER_PREFIXES = ("x-eva-", "content-")
RESERVED_HEADERS = frozenset({"host", "transfer-encoding", "connection", "user-agent", "te", "upgrade", "trailer"})
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
MAX_HEADER_VALUE = 4096
MAX_HEADERS = 20


class ConfigurationRefused(ValueError):
    """A configuration evacase does not accept; the message says why (a 400 RequestValidationFailure)."""


@dataclass
class ExportSettings:
    """Process-wide settings of event exports (README, "Event exports")."""

    sealer: Sealer = field(default_factory=lambda: Sealer(None))
    allow_insecure: bool = False  # http:// and loopback endpoints (development, tests)
    region: str | None = None  # EVA's Region field of every event
    retry_base_seconds: float = 10.0  # the first retry's delay; doubling up to retry_max_seconds
    retry_max_seconds: float = 3600.0
    failures_before_error: int = 20  # consecutive failed deliveries that put a configuration in Error
    retention_days: float = 30.0  # events and delivered deliveries are pruned after this
    poll_seconds: float = 5.0  # the worker's fallback poll when no notification wakes it
    lease_margin_seconds: float = 30.0  # a delivery's lease outlives its timeout by this much
    _client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        """The one HTTP client of deliveries (its connections reused), created on first use."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                trust_env=False,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def new_signing_key() -> str:
    return secrets.token_urlsafe(32)


def check_headers(headers: Mapping[str, str] | None, has_scheme: bool) -> None:
    """Extra headers: valid names and values, none reserved (nor Authorization beside another scheme)."""
    if not headers:
        return
    if len(headers) > MAX_HEADERS:
        raise ConfigurationRefused(f"at most {MAX_HEADERS} Headers")
    seen: set[str] = set()
    for name, value in headers.items():
        lower = name.lower()
        if not HEADER_NAME.match(name):
            raise ConfigurationRefused(f"Headers: {name[:64]!r} is not a valid header name")
        if lower in seen:
            raise ConfigurationRefused(f"Headers: {name!r} is named twice")
        seen.add(lower)
        if lower.startswith(RESERVED_HEADER_PREFIXES) or lower in RESERVED_HEADERS:
            raise ConfigurationRefused(f"Headers: {name!r} is reserved")
        if lower == "authorization" and has_scheme:
            raise ConfigurationRefused("Headers: Authorization is set by the configured authorization scheme")
        if len(value) > MAX_HEADER_VALUE or any(c in value for c in "\r\n\0"):
            raise ConfigurationRefused(f"Headers: the value of {name!r} is not a valid header value")


def check_authorization(auth: Mapping[str, Any] | None) -> None:
    """One authorization scheme at most; basic needs both halves; client certificates are not supported."""
    if not auth:
        return
    if auth.get("ClientCertificate") is not None:
        raise ConfigurationRefused("ClientCertificate (mTLS) is not supported by evacase")
    basic = auth.get("BasicUsername") is not None or auth.get("BasicPassword") is not None
    if basic and (auth.get("BasicUsername") is None or auth.get("BasicPassword") is None):
        raise ConfigurationRefused("BasicUsername and BasicPassword go together")
    schemes = [basic, bool(auth.get("StaticBearerToken")), bool(auth.get("StaticUnschemedToken"))]
    if sum(schemes) > 1:
        raise ConfigurationRefused("one authorization scheme at most: basic, StaticBearerToken or StaticUnschemedToken")
    for name in ("BasicUsername", "BasicPassword", "StaticBearerToken", "StaticUnschemedToken"):
        value = auth.get(name)
        if value is not None and any(c in str(value) for c in "\r\n\0"):
            raise ConfigurationRefused(f"{name} must not contain line breaks")
    if auth.get("BasicUsername") is not None and ":" in str(auth["BasicUsername"]):
        raise ConfigurationRefused("BasicUsername must not contain ':'")
    check_headers(auth.get("Headers"), any(schemes))


def seal_authorization(sealer: Sealer, auth: Mapping[str, Any] | None) -> str | None:
    return sealer.seal(msgspec.json.encode(dict(auth)).decode()) if auth else None


def open_authorization(sealer: Sealer, stored: str | None) -> dict[str, Any] | None:
    if stored is None:
        return None
    opened: dict[str, Any] = msgspec.json.decode(sealer.open(stored))
    return opened


MASK = "********"


def masked_authorization(auth: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What a Get shows of an Authorization: which scheme, the basic user name, header names; never a secret."""
    if not auth:
        return None
    shown: dict[str, Any] = {}
    if auth.get("BasicUsername") is not None:
        shown["BasicUsername"] = auth["BasicUsername"]
        shown["BasicPassword"] = MASK
    for name in ("StaticBearerToken", "StaticUnschemedToken"):
        if auth.get(name):
            shown[name] = MASK
    if auth.get("Headers"):
        shown["Headers"] = {name: MASK for name in auth["Headers"]}
    return shown


def shown_authorization(sealer: Sealer, stored: str | None) -> dict[str, Any] | None:
    """What a Get shows of a stored Authorization: masked; nothing when it cannot be opened here."""
    try:
        return masked_authorization(open_authorization(sealer, stored))
    except SecretUnavailable:
        return None


def case_event_types(message_types: Iterable[Mapping[str, Any]] | None) -> list[str] | None:
    """The `Cases` event types a MessageTypes list selects (None: the list is absent, so all of them). Entries
    of other targets are accepted and select nothing here (evacase exports cases only)."""
    if message_types is None:
        return None
    chosen: list[str] = []
    for entry in message_types:
        if entry.get("TargetID") != CASES_TARGET:
            continue
        kind = entry.get("EventType")
        if kind is None:
            return list(CASE_EVENT_TYPES)
        if kind not in CASE_EVENT_TYPES:
            raise ConfigurationRefused(
                f"{kind[:64]!r} is not an event type of Cases (one of: {', '.join(CASE_EVENT_TYPES)})"
            )
        if kind not in chosen:
            chosen.append(kind)
    return chosen


def excluded_case_event_types(message_types: Iterable[Mapping[str, Any]] | None) -> list[str]:
    return case_event_types(message_types) or [] if message_types is not None else []


def check_unsupported_filters(config: Mapping[str, Any]) -> None:
    """Filters evacase cannot honour are refused, never ignored (ignoring one would export what it excludes)."""
    for name in ("IncludeOrganizationUnitSets", "ExcludeOrganizationUnitSets"):
        if config.get(name):
            raise ConfigurationRefused(
                f"{name}: evacase has no organization unit sets; use the OrganizationUnits lists"
            )
    if config.get("ScriptID") is not None or config.get("ScriptName"):
        raise ConfigurationRefused("ScriptID: evacase runs no scripts; filter with MessageTypes and OrganizationUnits")


def delivery_for(
    settings: ExportSettings,
    endpoint: Mapping[str, Any],
    timeout: int | None = None,
    auth_override: str | None = None,
) -> Delivery:
    """How events go to `endpoint` (an endpoint configuration's columns), its secrets opened (SecretUnavailable
    when they cannot be); an export configuration may override the timeout and the authorization scheme."""
    auth = open_authorization(settings.sealer, endpoint["auth_config"]) or {}
    override = open_authorization(settings.sealer, auth_override)
    if override:  # the export's own scheme replaces the endpoint's; the endpoint's extra Headers stay
        auth = {"Headers": auth.get("Headers"), **override}
    return Delivery(
        endpoint=endpoint["endpoint"],
        key1=settings.sealer.open(endpoint["secret_key1"]),
        key2=settings.sealer.open(endpoint["secret_key2"]),
        headers=authorization_headers(auth),
        use_string_ids=endpoint["use_string_ids"],
        ignore_null_values=endpoint["ignore_null_values"],
        timeout=timeout or endpoint["timeout_seconds"] or DEFAULT_TIMEOUT_SECONDS,
        region=settings.region,
    )


async def send_test_event(settings: ExportSettings, delivery: Delivery, target: str, event_type: str) -> Outcome:
    event = Event(
        uid=str(uuid.uuid4()),
        creation_time=dt.datetime.now(dt.UTC),
        target=target,
        event_type=event_type,
        identifier=None,
        data={"IsTest": True},
    )
    body = body_of(event, delivery, 1)
    headers = signed_request_headers(event, delivery, 1, body)
    return await post(settings.client(), delivery, headers, body, settings.allow_insecure)
