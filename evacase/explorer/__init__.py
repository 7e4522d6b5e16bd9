"""GET /docs: the API explorer, a page evacase serves itself (no CDN: machines may be offline).

It reads /openapi.json, lists the services, shows each one's rules and request schema, pre-fills a body from the
schema and sends it with the token pasted (or, in development, minted by POST /docs/token)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from importlib.resources import files

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from evacase.auth import UserType
from evacase.config import Settings
from evacase.errors import DevelopmentTokensOff, EvaError, ValidationFailed
from evacase.registry import Registry
from evacase.runtime import Runtime

_STATIC = files(__package__)
# The page runs only its own script and style, talks only to this origin, and is never framed.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
    " img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_FILES = {
    "explorer.html": "text/html; charset=utf-8",
    "explorer.js": "text/javascript; charset=utf-8",
    "explorer.css": "text/css; charset=utf-8",
}
# The development identities the page mints tokens for: (user ID, first name, last name).
DEMO_USERS = {
    "customer": (UserType.CUSTOMER, 1, "Jane", "Doe"),
    "employee": (UserType.EMPLOYEE, 2, "Pedro", "Pascal"),
    "integrator": (UserType.API, 3, "Call", "Centre"),
}


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    UserType: str = "customer"


class TokenResponse(msgspec.Struct):
    Token: str
    UserID: int
    UserType: str
    Functionalities: list[str]


def _static(name: str) -> Response:
    return Response(_STATIC.joinpath(name).read_bytes(), 200, _HEADERS, _FILES[name])


async def page(request: Request) -> Response:
    return _static("explorer.html")


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _FILES:
        return Response(b"", 404)
    return _static(name)


def functionalities_for(registry: Registry, user_type: str) -> list[str]:
    """An employee holds every functionality a service asks for; an integrator what pushing cases needs."""
    if user_type == "customer":
        return []
    if user_type == "integrator":
        return ["PushCases", "Cases:View"]
    names = set()
    for name in registry.names():
        op = registry.get(name)
        if op is not None and op.access.functionality:
            names.add(op.access.functionality[0])
    return sorted(names)


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mint(settings: Settings, rt: Runtime, request: Request, body: bytes) -> TokenResponse:
    """A development token for the page: only while `EVACASE_DOCS_TOKENS` is on, and only for callers on this
    machine (whoever may mint tokens is every user at once)."""
    if not settings.docs_tokens:
        raise DevelopmentTokensOff()
    if not _is_loopback(request):
        raise DevelopmentTokensOff("Development tokens are minted for callers on this machine only.")
    try:
        wanted = msgspec.json.decode(body or b"{}", type=TokenRequest)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(str(exc)) from None
    except msgspec.DecodeError:
        raise ValidationFailed("The body is not valid JSON.") from None
    if wanted.UserType not in DEMO_USERS:
        raise ValidationFailed(f"UserType must be one of {', '.join(DEMO_USERS)}.")
    user_type, user_id, first, last = DEMO_USERS[wanted.UserType]
    functionalities = functionalities_for(rt.registry, wanted.UserType)
    token = rt.verifier.mint(user_id, int(user_type), functionalities, first, last)
    if token is None:
        raise DevelopmentTokensOff("Tokens are verified with a public key: only their issuer can mint them.")
    return TokenResponse(token, user_id, wanted.UserType, functionalities)


def routes(settings: Settings, new_request_id: Callable[[], str]) -> list[Route]:
    async def token(request: Request) -> Response:
        request_id = new_request_id()
        headers = {"EVA-Request-ID": request_id, "Cache-Control": "no-store"}
        try:
            answer = mint(settings, request.app.state.runtime, request, await request.body())
        except EvaError as error:
            return Response(error.body(request_id), error.status, headers, "application/json")
        return Response(msgspec.json.encode(answer), 200, headers, "application/json")

    return [
        Route("/docs", page, methods=["GET"]),
        Route("/docs/token", token, methods=["POST"]),
        Route("/docs/{name}", asset, methods=["GET"]),
    ]
