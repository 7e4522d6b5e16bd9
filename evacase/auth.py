"""Who is calling: verify the signed token in `Authorization` and turn its claims into a Caller."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from enum import IntFlag
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from evacase.config import Settings
from evacase.errors import Unauthorized

BIGINT_MAX = 2**63 - 1
# Token subjects (EVA user IDs) stay below this; pushed customers get IDs from here up (see schema.sql).
FIRST_PUSHED_CUSTOMER_ID = 10**15
# evacase itself, as the author of what background jobs change: the one ID between token subjects and pushed
# customers (whose sequence starts one above), seeded by schema.sql.
SYSTEM_USER_ID = FIRST_PUSHED_CUSTOMER_ID


class UserType(IntFlag):
    """EVA's UserTypes (a bit flag); System (17) includes the Employee bit."""

    NONE = 0
    EMPLOYEE = 1
    CUSTOMER = 2
    SYSTEM = 17
    API = 2048


ANY_USER = -1  # a mask that matches every authenticated caller


class Scope(IntFlag):
    """EVA's FunctionalityScope: Manage is Create|Edit|Delete|View, All is every scope."""

    NONE = 0
    CREATE = 1
    EDIT = 2
    DELETE = 4
    VIEW = 8
    MANAGE = 15
    SETTINGS = 16
    ALL = 31


SCOPES_BY_NAME = {name.lower(): scope for name, scope in Scope.__members__.items()}


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int
    user_type: int
    functionalities: dict[str, int]
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    organization_units: tuple[int, ...] | None = None
    # evacase's own claim `case_scopes` (seed 003's view mine / assigned / unassigned): besides the units, only
    # cases assigned to the caller, unassigned ones, and/or ones they created (any listed scope); None: no limit.
    case_scopes: tuple[str, ...] | None = None
    custom_id: str | None = None
    backend_id: str | None = None
    email_verified: bool = False
    expires_at: float = 0.0

    def has_type(self, mask: int) -> bool:
        return mask == ANY_USER or bool(self.user_type & mask)

    @property
    def is_staff(self) -> bool:
        """An Employee (System users included) or an Api user. A token that is both Employee and Customer is
        staff: its Employee bit wins wherever evacase shows one view or the other."""
        return bool(self.user_type & (UserType.EMPLOYEE | UserType.API))

    @property
    def is_customer(self) -> bool:
        """A Customer and not staff (see is_staff). Customer* services act for every caller as its customer
        whatever this says; it decides what the shared services (topics, custom fields) show."""
        return bool(self.user_type & UserType.CUSTOMER) and not self.is_staff

    def has_functionality(self, name: str, scope: Scope) -> bool:
        held = self.functionalities.get(name)
        if held is None:
            return False
        return scope == Scope.NONE or held & scope == scope

    @property
    def profile(self) -> tuple[object, ...]:
        """What the users table keeps of this caller; written only when it differs."""
        return (
            self.user_type,
            self.first_name,
            self.last_name,
            self.email,
            self.custom_id,
            self.backend_id,
            self.email_verified,
        )


# The caller of a service that needs no token (GetBlobInfo) when none is sent: acts as nobody, recorded nowhere.
ANONYMOUS = Caller(user_id=0, user_type=UserType.NONE, functionalities={})


def system_actor() -> Caller:
    """The actor of background work (scheduled closes, purges): a System user that sees every case."""
    return Caller(user_id=SYSTEM_USER_ID, user_type=UserType.SYSTEM, functionalities={}, first_name="evacase")


def parse_functionality(text: str) -> tuple[str, Scope]:
    """`Cases:View` -> ("Cases", VIEW); a bare `Cases` means every scope."""
    name, sep, scope_name = text.partition(":")
    if not name:
        raise ValueError(f"invalid functionality {text!r}")
    if not sep:
        return name, Scope.ALL
    scope = SCOPES_BY_NAME.get(scope_name.strip().lower())
    if scope is None:
        raise ValueError(f"unknown functionality scope in {text!r}")
    return name, scope


def strip_scheme(header: str) -> str:
    """Accept `Bearer <t>`, `eva <t>` and a bare `<t>` (EVA's clients send all three)."""
    value = header.strip()
    scheme, sep, rest = value.partition(" ")
    if sep and scheme.lower() in ("bearer", "eva"):
        return rest.strip()
    return value


MAX_CLAIM_LENGTH = 320  # characters of a profile claim (an e-mail address is at most 320)
MAX_ORGANIZATION_UNITS = 1_000
USER_TYPE_MAX = 2**31 - 1  # EVA's UserTypes is a 32-bit flag
_ASCII_ID = re.compile(r"[0-9]{1,19}")


def invalid_token(why: str) -> Unauthorized:
    return Unauthorized(f"The token is not valid: {why}.", "InvalidToken")


def _opt_str(claims: dict[str, object], name: str) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_token(f"the claim `{name}` must be a string")
    if len(value) > MAX_CLAIM_LENGTH or "\x00" in value:
        raise invalid_token(f"the claim `{name}` must be at most {MAX_CLAIM_LENGTH} characters, without NUL")
    return value


def _positive_int(value: object, what: str) -> int:
    """An ID: a JSON integer or a string of ASCII decimal digits, from 1 to 2^63-1."""
    if isinstance(value, str) and _ASCII_ID.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= BIGINT_MAX:
        raise invalid_token(f"{what} must be a positive integer below 2^63 (digits 0-9 only)")
    return value


def _user_type(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= USER_TYPE_MAX:
        raise invalid_token("the claim `user_type` must be an EVA UserTypes value (an integer from 0 to 2^31-1)")
    return value


def _organization_units(units: object) -> tuple[int, ...] | None:
    if units is None:
        return None
    if not isinstance(units, list):
        raise invalid_token("the claim `organization_units` must be a list of IDs")
    if len(units) > MAX_ORGANIZATION_UNITS:
        raise invalid_token(f"the claim `organization_units` holds more than {MAX_ORGANIZATION_UNITS} IDs")
    return tuple(dict.fromkeys(_positive_int(u, "each organization unit ID") for u in units))


CASE_SCOPES = ("assigned", "unassigned", "created")


def _case_scopes(scopes: object) -> tuple[str, ...] | None:
    if scopes is None:
        return None
    if not isinstance(scopes, list) or not all(isinstance(s, str) and s in CASE_SCOPES for s in scopes):
        raise invalid_token('the claim `case_scopes` must be a list of "assigned", "unassigned" and "created"')
    return tuple(sorted(set(scopes), key=CASE_SCOPES.index))


def caller_from_claims(claims: dict[str, object]) -> Caller:
    user_id = _positive_int(claims.get("sub"), "`sub` (the user ID)")
    if user_id >= FIRST_PUSHED_CUSTOMER_ID:
        raise invalid_token(
            f"`sub` (the user ID) must be below {FIRST_PUSHED_CUSTOMER_ID}: higher IDs are pushed customers'"
        )
    user_type = _user_type(claims.get("user_type"))
    raw_functionalities = claims.get("functionalities") or []
    if not isinstance(raw_functionalities, list):
        raise invalid_token("the claim `functionalities` must be a list")
    functionalities: dict[str, int] = {}
    for item in raw_functionalities:
        if not isinstance(item, str) or len(item) > MAX_CLAIM_LENGTH:
            raise invalid_token(f"each functionality must be a string of at most {MAX_CLAIM_LENGTH} characters")
        try:
            name, scope = parse_functionality(item)
        except ValueError as exc:
            raise invalid_token(f"it holds an invalid functionality ({exc})") from None
        functionalities[name] = functionalities.get(name, 0) | scope
    email_verified = claims.get("email_verified")
    if email_verified is not None and not isinstance(email_verified, bool):
        raise invalid_token("the claim `email_verified` must be true or false")
    exp = claims.get("exp")
    return Caller(
        user_id=user_id,
        user_type=user_type,
        functionalities=functionalities,
        first_name=_opt_str(claims, "given_name"),
        last_name=_opt_str(claims, "family_name"),
        email=_opt_str(claims, "email"),
        organization_units=_organization_units(claims.get("organization_units")),
        case_scopes=_case_scopes(claims.get("case_scopes")),
        custom_id=_opt_str(claims, "custom_id"),
        backend_id=_opt_str(claims, "backend_id"),
        email_verified=email_verified is True,
        expires_at=float(exp) if isinstance(exp, int | float) else 0.0,
    )


def _read_key(value: str) -> str:
    """A PEM given inline, or the path of a file holding it."""
    if "-----BEGIN" in value:
        return value
    return Path(value).expanduser().read_text()


class TokenVerifier:
    """Verifies tokens with the one configured algorithm; caches decoded tokens until they expire."""

    CACHE_LIMIT = 10_000
    LEEWAY_SECONDS = 30  # tolerated clock skew for exp, nbf and iat

    def __init__(self, settings: Settings, secret: str | None = None) -> None:
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self._key: object
        if settings.jwt_public_key:
            pem = _read_key(settings.jwt_public_key)
            key = load_pem_public_key(pem.encode())
            if isinstance(key, rsa.RSAPublicKey):
                default_alg = "RS256"
            elif isinstance(key, ec.EllipticCurvePublicKey):
                default_alg = "ES256"
            else:
                raise ValueError("EVACASE_JWT_PUBLIC_KEY must be an RSA or EC public key")
            self._key = key
            self.algorithm = settings.jwt_algorithm or default_alg
        else:
            secret = secret or settings.jwt_secret
            if not secret:
                raise ValueError("no JWT secret or public key configured")
            self._key = secret
            self.algorithm = settings.jwt_algorithm or "HS256"
        if self.algorithm.lower() == "none":
            raise ValueError("the JWT algorithm `none` is not allowed")
        self._cache: dict[str, Caller] = {}

    def mint(
        self, user_id: int, user_type: int, functionalities: list[str], first_name: str, last_name: str
    ) -> str | None:
        """A token this verifier accepts, valid one day (the API explorer's development tokens); None when tokens
        are verified with a public key (only their issuer can mint them)."""
        if not isinstance(self._key, str):
            return None
        return mint_token(
            self._key,
            user_id=user_id,
            user_type=user_type,
            functionalities=functionalities,
            first_name=first_name,
            last_name=last_name,
            algorithm=self.algorithm,
            issuer=self.issuer,
            audience=self.audience,
        )

    def verify(self, header: str | None) -> Caller:
        if not header or not header.strip():
            raise Unauthorized("This service requires an Authorization header with a token.", "MissingToken")
        token = strip_scheme(header)
        now = time.time()
        cached = self._cache.get(token)
        if cached is not None:
            if cached.expires_at + self.LEEWAY_SECONDS > now:
                return cached
            del self._cache[token]
        try:
            claims = jwt.decode(
                token,
                self._key,  # type: ignore[arg-type]
                algorithms=[self.algorithm],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.LEEWAY_SECONDS,
                # `sub` may be an integer (EVA user IDs): checked by caller_from_claims, not by pyjwt.
                options={"require": ["exp", "sub"], "verify_aud": self.audience is not None, "verify_sub": False},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The token has expired.", "ExpiredToken") from None
        except jwt.PyJWTError as exc:
            # pyjwt's messages name the check that failed (signature, issuer, audience, format), never the key.
            raise invalid_token(str(exc)[:200].rstrip(".") or type(exc).__name__) from None
        caller = caller_from_claims(claims)
        if len(self._cache) >= self.CACHE_LIMIT:
            self._cache.clear()
        self._cache[token] = caller
        return caller


def mint_token(
    secret: str,
    *,
    user_id: int,
    user_type: int,
    functionalities: list[str] | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
    organization_units: list[int] | None = None,
    case_scopes: list[str] | None = None,
    custom_id: str | None = None,
    backend_id: str | None = None,
    expires_in: int = 86400,
    algorithm: str = "HS256",
    issuer: str | None = None,
    audience: str | None = None,
) -> str:
    """A signed token for local use and tests (the production issuer is the shop's identity system)."""
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": str(user_id),
        "user_type": user_type,
        "functionalities": functionalities or [],
        "iat": now,
        "exp": now + expires_in,
    }
    optional = {
        "given_name": first_name,
        "family_name": last_name,
        "email": email,
        "organization_units": organization_units,
        "case_scopes": case_scopes,
        "custom_id": custom_id,
        "backend_id": backend_id,
        "iss": issuer,
        "aud": audience,
    }
    claims.update({k: v for k, v in optional.items() if v is not None})
    return jwt.encode(claims, secret, algorithm=algorithm)
