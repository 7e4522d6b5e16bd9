"""Settings read from the environment (documented in the README, section Configuration)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

MAX_BODY_BYTES = 1024 * 1024
T = TypeVar("T", int, float)


class ConfigError(ValueError):
    """A setting that cannot be used: `evacase` says which in one line and exits non-zero."""


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    home: Path = field(default_factory=lambda: Path("~/.local/share/evacase").expanduser())
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_algorithm: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    cors_origins: tuple[str, ...] = ()
    log_format: str = "json"
    pooler: str = "none"  # EVACASE_POOLER: PgBouncer in front of PostgreSQL (db.pooler_mode reads it too)
    max_body_bytes: int = MAX_BODY_BYTES
    pool_min_size: int = 2
    pool_max_size: int = 10
    # The longest a request waits for the database (a connection, a lock, its statements), in seconds: past it
    # the answer is 503 with Retry-After, and PostgreSQL cancels the statement (statement_timeout).
    db_timeout: float = 5.0
    # The HTTP server's guards (evacase serve): request line + headers at most this many bytes (431); a request
    # must arrive whole within request_timeout seconds of its first byte (408); an idle connection is closed after
    # keep_alive_timeout seconds; beyond max_concurrency connections or requests at once, new ones get 503.
    max_header_bytes: int = 32 * 1024
    request_timeout: float = 30.0
    keep_alive_timeout: int = 5
    max_concurrency: int = 1000
    # On SIGTERM: seconds during which GET /health answers 503 ShuttingDown while requests are still served (so
    # a load balancer stops sending), before the graceful shutdown, which waits up to shutdown_timeout seconds.
    drain_seconds: float = 0.0
    shutdown_timeout: int = 30
    # How long the answer to a request with an Idempotency-Key is kept for its retries.
    idempotency_ttl_hours: float = 24.0
    # Periodic jobs (the purge of expired idempotency keys) run inside the serving process.
    background_jobs: bool = True
    # Blobs (README, section Attachments): where contents live, the size limit, the MIME types accepted, and the
    # base of the URLs evacase hands out (None: the request's own origin).
    blob_store: str = "postgresql"
    blob_max_bytes: int = 20 * 1024 * 1024
    blob_mime_types: tuple[str, ...] = ()  # () means the default allow-list (domain/blob_types.py)
    public_url: str | None = None
    blob_downloads: str = "capability"  # or "signed": downloads need the signature evacase adds to each Url
    blob_url_seconds: int = 3600  # how long a signed Url stays valid
    jobs_interval_seconds: float = 60.0
    # Receipts: the print command (PDF on standard input), and per EVA StationID its own.
    print_command: str | None = None
    print_stations: tuple[tuple[int, str], ...] = ()
    # Event exports (README, "Event exports"): the key sealing stored secrets, http:// and loopback endpoints for
    # development, EVA's Region field, the first retry's delay, how long events are kept, and whether `serve`
    # runs the delivery worker.
    secrets_key: str | None = None
    event_exports_allow_insecure: bool = False
    region: str | None = None
    event_retry_base_seconds: float = 10.0
    event_retention_days: float = 30.0
    worker: bool = True
    # GET /docs may mint development tokens (POST /docs/token, loopback callers only): serve turns it on when it
    # signs with a secret it generated itself.
    docs_tokens: bool = False
    # OpenTelemetry traces over OTLP/HTTP (evacase/tracing.py; the `otel` extra); the OTEL_* variables say where.
    otel: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = dict(os.environ if env is None else env)

        def opt(name: str) -> str | None:
            value = e.get(name, "").strip()
            return value or None

        def one_of(name: str, choices: tuple[str, ...]) -> str:
            """The setting, one of `choices` (the first is the default)."""
            raw = opt(name)
            if raw is None:
                return choices[0]
            if raw.lower() not in choices:
                raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
            return raw.lower()

        def num(name: str, default: T, kind: Callable[[str], T]) -> T:
            raw = opt(name)
            if raw is None:
                return default
            try:
                value = kind(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a number, got {raw!r}") from None
            if value < 0:
                raise ConfigError(f"{name} must not be negative, got {raw!r}")
            return value

        def flag(name: str, default: bool) -> bool:
            raw = opt(name)
            if raw is None:
                return default
            if raw.lower() in ("true", "1", "yes", "on"):
                return True
            if raw.lower() in ("false", "0", "no", "off"):
                return False
            raise ConfigError(f"{name} must be true or false, got {raw!r}")

        origins = tuple(o.strip() for o in e.get("EVACASE_CORS_ORIGINS", "").split(",") if o.strip())
        home = Path(e.get("EVACASE_HOME") or "~/.local/share/evacase").expanduser()
        return cls(
            database_url=opt("DATABASE_URL"),
            home=home,
            jwt_secret=opt("EVACASE_JWT_SECRET"),
            jwt_public_key=opt("EVACASE_JWT_PUBLIC_KEY"),
            jwt_algorithm=opt("EVACASE_JWT_ALGORITHM"),
            jwt_issuer=opt("EVACASE_JWT_ISSUER"),
            jwt_audience=opt("EVACASE_JWT_AUDIENCE"),
            cors_origins=origins,
            log_format=one_of("EVACASE_LOG_FORMAT", ("json", "console")),
            pooler=one_of("EVACASE_POOLER", ("none", "session", "transaction")),
            max_body_bytes=num("EVACASE_MAX_BODY_BYTES", MAX_BODY_BYTES, int),
            pool_min_size=num("EVACASE_POOL_MIN_SIZE", 2, int),
            pool_max_size=num("EVACASE_POOL_MAX_SIZE", 10, int),
            db_timeout=num("EVACASE_DB_TIMEOUT", 5.0, float),
            max_header_bytes=num("EVACASE_MAX_HEADER_BYTES", 32 * 1024, int),
            request_timeout=num("EVACASE_REQUEST_TIMEOUT", 30.0, float),
            keep_alive_timeout=num("EVACASE_KEEP_ALIVE_TIMEOUT", 5, int),
            max_concurrency=num("EVACASE_MAX_CONCURRENCY", 1000, int),
            drain_seconds=num("EVACASE_DRAIN_SECONDS", 0.0, float),
            shutdown_timeout=num("EVACASE_SHUTDOWN_TIMEOUT", 30, int),
            idempotency_ttl_hours=num("EVACASE_IDEMPOTENCY_TTL_HOURS", 24.0, float),
            background_jobs=flag("EVACASE_BACKGROUND_JOBS", True),
            blob_store=opt("EVACASE_BLOB_STORE") or "postgresql",
            blob_max_bytes=num("EVACASE_BLOB_MAX_BYTES", 20 * 1024 * 1024, int),
            blob_mime_types=tuple(
                t.strip().lower() for t in e.get("EVACASE_BLOB_MIME_TYPES", "").split(",") if t.strip()
            ),
            public_url=opt("EVACASE_PUBLIC_URL"),
            blob_downloads=downloads_mode(opt("EVACASE_BLOB_DOWNLOADS")),
            blob_url_seconds=num("EVACASE_BLOB_URL_SECONDS", 3600, int),
            jobs_interval_seconds=num("EVACASE_JOBS_INTERVAL_SECONDS", 60.0, float),
            secrets_key=opt("EVACASE_SECRETS_KEY"),
            event_exports_allow_insecure=flag("EVACASE_EVENT_EXPORTS_ALLOW_INSECURE", False),
            region=opt("EVACASE_REGION"),
            event_retry_base_seconds=num("EVACASE_EVENT_RETRY_BASE_SECONDS", 10.0, float),
            event_retention_days=num("EVACASE_EVENT_RETENTION_DAYS", 30.0, float),
            worker=flag("EVACASE_WORKER", True),
            docs_tokens=flag("EVACASE_DOCS_TOKENS", False),
            otel=flag("EVACASE_OTEL", False),
            print_command=opt("EVACASE_PRINT_COMMAND"),
            print_stations=tuple(
                (int(name.removeprefix("EVACASE_PRINT_COMMAND_")), value.strip())
                for name, value in sorted(e.items())
                if name.startswith("EVACASE_PRINT_COMMAND_")
                and name.removeprefix("EVACASE_PRINT_COMMAND_").isdigit()
                and value.strip()
            ),
        )

    @property
    def secret_file(self) -> Path:
        return self.home / "jwt_secret"


def downloads_mode(value: str | None) -> str:
    mode = (value or "capability").lower()
    if mode not in ("capability", "signed"):
        raise ConfigError(f"EVACASE_BLOB_DOWNLOADS must be capability or signed, got {value!r}")
    return mode
