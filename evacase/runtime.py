"""What lives as long as the process: the pool, the token verifier, the page-token key, the registry and the
request machinery around them. Opened once and used by the HTTP app and by background work alike."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import structlog

from evacase.auth import TokenVerifier
from evacase.config import ConfigError, Settings
from evacase.db import create_pool, fetch_secret, missing_role_settings
from evacase.deadlines import Deadlines
from evacase.domain.blob_stores import open_store
from evacase.domain.blob_types import DEFAULT_ALLOWED
from evacase.domain.catalogue import CatalogueCache
from evacase.domain.event_exports import ExportSettings
from evacase.domain.printing import PrintTargets
from evacase.domain.secrets import Sealer
from evacase.domain.stored_blobs import BlobSettings, UrlSigner
from evacase.domain.users import KnownUsers
from evacase.paging import PageTokens
from evacase.pool import Pool
from evacase.registry import Registry


@dataclass
class Runtime:
    """Everything a request needs that lives as long as the process."""

    pool: Pool  # lends connections first come first served (evacase/pool.py)
    verifier: TokenVerifier
    page_tokens: PageTokens
    registry: Registry
    db_timeout: float = 5.0  # seconds a request may wait for the database, all told
    deadlines: Deadlines = field(default_factory=Deadlines)
    idempotency_ttl: float = 24 * 3600.0  # seconds an Idempotency-Key's answer is kept
    known_users: KnownUsers = field(default_factory=KnownUsers)
    catalogue: CatalogueCache = field(default_factory=CatalogueCache)  # PushCase's custom fields and settings
    blobs: BlobSettings = field(default_factory=lambda: blob_settings(Settings()))
    print_targets: PrintTargets = field(default_factory=PrintTargets)
    jobs_interval: float = 60.0  # seconds between runs of the blob purge (EVACASE_JOBS_INTERVAL_SECONDS)
    exports: ExportSettings = field(default_factory=ExportSettings)  # event exports: secrets, safety, retries
    database_url: str | None = None  # for connections of their own (the delivery worker's LISTEN)

    async def close(self) -> None:
        await self.exports.close()
        await self.deadlines.close()
        await self.pool.close()


async def open_runtime(settings: Settings, registry: Registry, jwt_secret: str | None = None) -> Runtime:
    """Connect and build the runtime; `jwt_secret` overrides the settings' secret (serve passes a generated one)."""
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set (evacase serve starts an embedded PostgreSQL for you)")
    verifier = TokenVerifier(settings, jwt_secret)
    pool = await create_pool(settings.database_url, settings.pool_min_size, settings.pool_max_size, settings.db_timeout)
    try:
        async with pool.acquire() as conn:
            key = await fetch_secret(conn, "page_token_key", secrets.token_bytes(32))
            blob_url_key = await fetch_secret(conn, "blob_url_key", secrets.token_bytes(32))
            if settings.pooler != "none":  # the settings a pooler cannot pass on must be the role's
                missing = await missing_role_settings(conn)
                if missing:
                    structlog.get_logger("evacase").warning(
                        "pooler_role_settings_missing",
                        detail="behind a pooler these settings come from the database role; run: " + "; ".join(missing),
                    )
    except BaseException:
        await pool.close()
        raise
    return Runtime(
        pool=pool,
        verifier=verifier,
        page_tokens=PageTokens(key),
        registry=registry,
        db_timeout=settings.db_timeout,
        idempotency_ttl=settings.idempotency_ttl_hours * 3600,
        blobs=blob_settings(settings, blob_url_key),
        jobs_interval=settings.jobs_interval_seconds,
        print_targets=PrintTargets(settings.print_command, dict(settings.print_stations)),
        exports=export_settings(settings),
        database_url=settings.database_url,
    )


def blob_settings(settings: Settings, url_key: bytes = b"") -> BlobSettings:
    try:
        store = open_store(settings.blob_store)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    allowed = frozenset(settings.blob_mime_types or DEFAULT_ALLOWED)
    signer = UrlSigner(url_key, settings.blob_url_seconds) if settings.blob_downloads == "signed" else None
    return BlobSettings(store, settings.blob_max_bytes, allowed, settings.public_url, signer)


@contextlib.asynccontextmanager
async def running(settings: Settings, registry: Registry, jwt_secret: str | None = None) -> AsyncIterator[Runtime]:
    """A runtime, closed on exit."""
    runtime = await open_runtime(settings, registry, jwt_secret)
    try:
        yield runtime
    finally:
        await runtime.close()


def export_settings(settings: Settings) -> ExportSettings:
    return ExportSettings(
        sealer=Sealer(settings.secrets_key),
        allow_insecure=settings.event_exports_allow_insecure,
        region=settings.region,
        retry_base_seconds=settings.event_retry_base_seconds,
        retention_days=settings.event_retention_days,
    )
