"""A small Python client for integrators (needs httpx: `pip install 'evacase[client]'`).

    async with EvaClient("https://cases.shop.example", token) as client:
        case = await client.call("PushCase", {"BackendID": "CC-1", ...})        # a dict in, a dict out
        answer = await client.send(PushCase(BackendID="CC-1", ...))          # typed: evacase's own Structs

Writes are sent with an `Idempotency-Key` (one per call, kept across its retries), so a call retried after a
dropped connection, a 503 or a 429 is carried out once; retries back off exponentially (honouring
`Retry-After`). An EVA error body becomes an `EvaApiError`. `SyncEvaClient` is the same for code without asyncio."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, TypeVar

import httpx
import msgspec

from evacase.services import build_registry

RETRIED_STATUSES = (429, 502, 503, 504)
Answer = TypeVar("Answer", bound=msgspec.Struct)


class EvaApiError(Exception):
    """An EVA error answer: its HTTP status and the `Error` object (Code, Type, Message, RequestID, Data)."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(f"{status} {error.get('Code')}: {error.get('Message')}")
        self.status = status
        self.error = error
        self.code = error.get("Code")


class _Calls:
    """What both clients share: headers, the retry rule, decoding."""

    def __init__(self, token: str | None, user_agent: str, retries: int, backoff: float) -> None:
        self.token = token
        self.user_agent = user_agent
        self.retries = retries
        self.backoff = backoff
        self._registry = build_registry()

    def key_for(self, service: str) -> str | None:
        """A fresh Idempotency-Key for a write (kept across its retries); reads need none."""
        operation = self._registry.get(service)
        return uuid.uuid4().hex if operation is None or operation.writes else None

    def headers(self, key: str | None) -> dict[str, str]:
        headers = {"EVA-User-Agent": self.user_agent}
        if key is not None:
            headers["Idempotency-Key"] = key
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def delay(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before the next attempt, or None when the answer is final."""
        if attempt >= self.retries:
            return None
        if response is not None and response.status_code not in RETRIED_STATUSES:
            return None
        if response is not None and response.headers.get("Retry-After", "").isdigit():
            return float(response.headers["Retry-After"])
        return float(self.backoff * 2**attempt)

    @staticmethod
    def answer(response: httpx.Response) -> dict[str, Any]:
        body: dict[str, Any] = response.json()
        if response.status_code != 200:
            raise EvaApiError(response.status_code, body.get("Error") or {})
        return body

    def response_type(self, request: msgspec.Struct) -> type[msgspec.Struct]:
        operation = self._registry.get(type(request).__name__)
        if operation is None:
            raise ValueError(f"{type(request).__name__} is no service of evacase")
        return operation.response_type


class EvaClient(_Calls):
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        user_agent: str = "evacase-client/1",
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(token, user_agent, retries, backoff)
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def __aenter__(self) -> EvaClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def call(self, service: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        key = self.key_for(service)
        attempt = 0
        while True:
            try:
                response: httpx.Response | None = await self._http.post(
                    f"/message/{service}", json=body or {}, headers=self.headers(key)
                )
            except httpx.TransportError:
                response = None
                if attempt >= self.retries:
                    raise
            wait = self.delay(attempt, response)
            if wait is None and response is not None:
                return self.answer(response)
            await asyncio.sleep(wait or 0)
            attempt += 1

    async def send(self, request: Answer) -> msgspec.Struct:
        """A typed call: evacase's request Struct in, its response Struct out."""
        answer = await self.call(type(request).__name__, msgspec.to_builtins(request))
        return msgspec.convert(answer, self.response_type(request))


class SyncEvaClient:
    """EvaClient for code without asyncio: the same calls on an event loop of its own (not for use inside a
    running loop)."""

    def __init__(self, base_url: str, token: str | None = None, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._client = EvaClient(base_url, token, **options)

    def __enter__(self) -> SyncEvaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.run_until_complete(self._client.__aexit__())
        self._loop.close()

    def call(self, service: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._loop.run_until_complete(self._client.call(service, body))

    def send(self, request: Answer) -> msgspec.Struct:
        return self._loop.run_until_complete(self._client.send(request))
