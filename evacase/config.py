"""Settings read from the environment (documented in the README, section Configuration)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

MAX_BODY_BYTES = 1024 * 1024


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
    max_body_bytes: int = MAX_BODY_BYTES
    pool_min_size: int = 2
    pool_max_size: int = 10
    # The longest a request waits for the database (a connection, a lock, its statements), in seconds: past it
    # the answer is 503 with Retry-After, and PostgreSQL cancels the statement (statement_timeout).
    db_timeout: float = 5.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = dict(os.environ if env is None else env)

        def opt(name: str) -> str | None:
            value = e.get(name, "").strip()
            return value or None

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
            log_format=opt("EVACASE_LOG_FORMAT") or "json",
            max_body_bytes=int(opt("EVACASE_MAX_BODY_BYTES") or MAX_BODY_BYTES),
            pool_min_size=int(opt("EVACASE_POOL_MIN_SIZE") or 2),
            pool_max_size=int(opt("EVACASE_POOL_MAX_SIZE") or 10),
            db_timeout=float(opt("EVACASE_DB_TIMEOUT") or 5.0),
        )

    @property
    def secret_file(self) -> Path:
        return self.home / "jwt_secret"
