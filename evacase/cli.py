"""The `evacase` command: serve, token, migrate, settings, user."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import secrets
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import msgspec
import structlog

from evacase import tracing
from evacase.auth import CASE_SCOPES, UserType, mint_token, parse_functionality
from evacase.config import ConfigError, Settings
from evacase.db import connect_options, fetch_secret, read_secret
from evacase.logs import configure_logging
from evacase.migrate import DatabaseUnusable, migrate_dsn, wait_for_database
from evacase.openapi import openapi_document, package_version
from evacase.services import build_registry

log = structlog.get_logger("evacase")

USER_TYPES = {
    "employee": UserType.EMPLOYEE,
    "customer": UserType.CUSTOMER,
    "system": UserType.SYSTEM,
    "api": UserType.API,
}


# One-shot commands (migrate, settings, user, demo) print their result on stdout; their info lines (the embedded
# PostgreSQL starting, the schema applied) would only interleave with it in a terminal: warnings and errors only.
ONE_SHOT_LOG_LEVEL = logging.WARNING
DEVELOPMENT_SECRET = "jwt_development_secret"  # app_secrets: the generated HS256 secret of a shared database


async def _shared_secret(dsn: str, create: bool) -> str | None:
    """The generated HS256 secret kept in the database itself, so every instance serving it agrees (made by
    whichever instance asks first); None when none was made and `create` is false."""
    conn = await asyncpg.connect(dsn, **connect_options())
    try:
        if create:
            value: bytes | None = await fetch_secret(conn, DEVELOPMENT_SECRET, secrets.token_urlsafe(48).encode())
        else:
            value = await read_secret(conn, DEVELOPMENT_SECRET)
    finally:
        await conn.close()
    return value.decode() if value is not None else None


def _ensure_secret(settings: Settings, create: bool) -> str | None:
    """The HS256 secret: EVACASE_JWT_SECRET; else, for a database of one's own (DATABASE_URL), the one kept in it
    (instances sharing a database must agree); else, for the embedded one, the one kept under $EVACASE_HOME
    (generated once by serve)."""
    if settings.jwt_secret:
        return settings.jwt_secret
    if settings.jwt_public_key:
        return None
    if settings.database_url:
        return asyncio.run(_shared_secret(settings.database_url, create))
    path = settings.secret_file
    if path.exists():
        return path.read_text().strip()
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")
    sys.stderr.write(
        f"Generated a JWT signing secret in {path}.\n"
        "Mint a token for local use with, e.g.:\n"
        "  evacase token --user-id 1 --user-type customer --name 'Jane Doe'\n"
    )
    return secret


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """`"First Last"` -> ("First", "Last"); a single word is the first name."""
    if not name:
        return None, None
    first, _, rest = name.strip().partition(" ")
    return first, rest.strip() or None


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[str]:
    if settings.database_url:
        yield settings.database_url
        return
    from evacase.embedded import embedded_postgres

    with embedded_postgres(settings.home) as dsn:
        yield dsn


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


async def _prepare_database(dsn: str) -> int:
    await wait_for_database(dsn)
    return await migrate_dsn(dsn)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from evacase.server import DrainingServer, GuardedHttpToolsProtocol

    try:
        settings = Settings.from_env()
        if settings.otel:
            tracing.require()
    except ConfigError as exc:
        return _fatal(str(exc))
    configure_logging(settings.log_format)
    try:  # the port first: a busy one is one line, before any database starts
        bound = _bind(args.host, args.port)
    except OSError as exc:
        return _fatal(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}")
    secret = _ensure_secret(settings, create=True) if not settings.database_url else None
    # uvicorn re-raises SIGTERM after its graceful shutdown; this handler turns it into SystemExit so the
    # `finally` below still stops the embedded PostgreSQL.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with _database(settings) as dsn:
        try:
            asyncio.run(_prepare_database(dsn))
        except DatabaseUnusable as exc:
            return _fatal(str(exc))
        if settings.database_url and not (settings.jwt_secret or settings.jwt_public_key):
            secret = _ensure_secret(settings, create=True)
            log.warning(
                "development_signing_secret",
                detail="no EVACASE_JWT_SECRET or EVACASE_JWT_PUBLIC_KEY: tokens are signed with a secret kept in "
                "the database (every instance on it agrees; `evacase token` mints them). Configure your own.",
            )
        os.environ["DATABASE_URL"] = dsn
        if args.no_worker:
            os.environ["EVACASE_WORKER"] = "false"
        if secret and not settings.jwt_secret:
            os.environ["EVACASE_JWT_SECRET"] = secret
            # A secret of evacase's own making: a development setup, whose explorer may mint tokens (loopback).
            os.environ.setdefault("EVACASE_DOCS_TOKENS", "true")
        config = uvicorn.Config(
            "evacase.app:create_app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="warning",
            access_log=False,
            http=GuardedHttpToolsProtocol,
            limit_concurrency=settings.max_concurrency,
            timeout_keep_alive=settings.keep_alive_timeout,
            timeout_graceful_shutdown=settings.shutdown_timeout,
        )

        def serving() -> None:  # once the port is bound, never before
            log.info("serving", host=args.host, port=args.port, workers=args.workers)

        with contextlib.suppress(KeyboardInterrupt):
            if args.workers > 1:  # uvicorn's supervisor (no drain period: each worker stops on its signal)
                from uvicorn.supervisors import Multiprocess

                _metrics_directory(settings)
                serving()
                Multiprocess(config, sockets=[bound]).run()
            else:
                server = DrainingServer(config, drain_delay=settings.drain_seconds, on_started=serving)
                server.run(sockets=[bound])
                if not server.started:
                    return _fatal(f"could not start serving on {args.host}:{args.port} (see the log above)")
    return 0


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket uvicorn serves on (its workers inherit it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _metrics_directory(settings: Settings) -> None:
    """Where several workers keep their Prometheus figures (so /metrics adds them up): PROMETHEUS_MULTIPROC_DIR
    if set, else `$EVACASE_HOME/metrics`, emptied of a previous run's files (set before the workers start)."""
    directory = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.home / "metrics")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def _fatal(message: str) -> int:
    """A start-up that cannot succeed as configured: one line, exit status 1."""
    sys.stderr.write(f"evacase: {message}\n")
    return 1


def cmd_worker(args: argparse.Namespace) -> int:
    """The background work alone: event-export deliveries and the periodic jobs (the service-level scheduler,
    purges), beside `serve --no-worker`, or as more workers."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        return _fatal(str(exc))
    configure_logging(settings.log_format)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with _database(settings) as dsn:
        try:
            asyncio.run(_prepare_database(dsn))
        except DatabaseUnusable as exc:
            return _fatal(str(exc))
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run_worker(settings, dsn))
    return 0


async def _run_worker(settings: Settings, dsn: str) -> None:
    from evacase.db import create_pool
    from evacase.jobs.exports import DeliveryWorker
    from evacase.jobs.periodic import run_periodically
    from evacase.jobs.purges import jobs_for
    from evacase.runtime import blob_settings, export_settings

    pool = await create_pool(dsn, 1, 4, settings.db_timeout)
    exports = export_settings(settings)
    work = [DeliveryWorker(pool, exports, dsn).run()]
    if settings.background_jobs:  # the scheduler and the purges, as inside serve (one runner at a time)
        jobs = jobs_for(blob_settings(settings).store, settings.jobs_interval_seconds, settings.event_retention_days)
        work.append(run_periodically(pool, jobs))
    log.info("worker_started", periodic_jobs=settings.background_jobs)
    try:
        await asyncio.gather(*work)
    finally:
        await exports.close()
        try:  # a bounded goodbye: connections still busy after it are cut (their transactions roll back)
            await asyncio.wait_for(pool.close(), 10)
        except (TimeoutError, asyncio.CancelledError):
            pool.terminate()


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    configure_logging(settings.log_format, ONE_SHOT_LOG_LEVEL)
    with _database(settings) as dsn:
        version = asyncio.run(migrate_dsn(dsn))
    print(f"schema at version {version}")  # noqa: T201 - the command's output
    return 0


async def _settings(dsn: str, changes: list[tuple[str, bool | int]]) -> dict[str, bool | int]:
    import asyncpg

    from evacase.domain.settings import read_settings, write_setting

    await migrate_dsn(dsn)
    conn = await asyncpg.connect(dsn, **connect_options())
    try:
        async with conn.transaction():
            for name, value in changes:
                await write_setting(conn, name, value, None)
        return await read_settings(conn)
    finally:
        await conn.close()


def cmd_settings(args: argparse.Namespace) -> int:
    from evacase.domain.settings import SETTINGS, parse_setting

    changes: list[tuple[str, bool | int]] = []
    for item in args.set:
        name, _, raw = item.partition("=")
        if name not in SETTINGS:
            sys.stderr.write(f"--set takes NAME=VALUE with NAME one of: {', '.join(SETTINGS)}\n")
            return 2
        try:
            changes.append((name, parse_setting(name, raw)))
        except ValueError as exc:
            sys.stderr.write(f"--set {item}: {exc}\n")
            return 2
    settings = Settings.from_env()
    configure_logging(settings.log_format, ONE_SHOT_LOG_LEVEL)
    with _database(settings) as dsn:
        values = asyncio.run(_settings(dsn, changes))
    for name, value in values.items():
        shown = ("true" if value else "false") if isinstance(value, bool) else str(value)
        print(f"{name}={shown}")  # noqa: T201 - the command's output
    return 0


async def _set_user(dsn: str, values: dict[str, object]) -> dict[str, object] | None:
    import asyncpg

    from evacase.db import load_queries

    await migrate_dsn(dsn)
    conn = await asyncpg.connect(dsn, **connect_options())
    try:
        row = await conn.fetchrow(*load_queries("users").bound("set_user", **values))
        return dict(row) if row is not None else None
    finally:
        await conn.close()


def cmd_user(args: argparse.Namespace) -> int:
    """Record a user before their first request (e.g. an employee PushCase should find by CustomID or e-mail)."""

    from evacase.auth import FIRST_PUSHED_CUSTOMER_ID

    if not 0 < args.user_id < FIRST_PUSHED_CUSTOMER_ID:
        sys.stderr.write(f"The user ID must be between 1 and {FIRST_PUSHED_CUSTOMER_ID - 1}.\n")
        return 2
    first, last = split_name(args.name)
    user_type = USER_TYPES[args.user_type] if args.user_type else None
    values = {
        "user_id": args.user_id,
        "user_type": user_type,
        "first_name": first,
        "last_name": last,
        "email_address": args.email,
        "custom_id": args.custom_id,
        "backend_id": args.backend_id,
    }
    settings = Settings.from_env()
    configure_logging(settings.log_format, ONE_SHOT_LOG_LEVEL)
    with _database(settings) as dsn:
        row = asyncio.run(_set_user(dsn, values))
    if row is None:
        sys.stderr.write("That ID is a pushed customer's: PushCase keeps it.\n")
        return 2
    print(json.dumps(row))  # noqa: T201 - the command's output
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    secret = _ensure_secret(settings, create=False)
    if not secret:
        sys.stderr.write(
            "No signing secret: set EVACASE_JWT_SECRET, or run `evacase serve` once to generate one "
            f"(in {settings.secret_file}, or in the database at DATABASE_URL). Tokens for RS256/ES256 set-ups are "
            "minted by your identity provider.\n"
        )
        return 2
    for f in args.functionality:
        try:
            parse_functionality(f)
        except ValueError as exc:
            sys.stderr.write(f"{exc}\n")
            return 2
    first, last = split_name(args.name)
    token = mint_token(
        secret,
        user_id=args.user_id,
        user_type=USER_TYPES[args.user_type],
        functionalities=args.functionality,
        first_name=first,
        last_name=last,
        email=args.email,
        organization_units=args.organization_unit or None,
        case_scopes=args.case_scope,
        custom_id=args.custom_id,
        backend_id=args.backend_id,
        expires_in=args.expires_in,
        algorithm=settings.jwt_algorithm or "HS256",
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    print(token)  # noqa: T201 - the command's output
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Fill the database (DATABASE_URL, or the embedded one) with the demo shop and print how to try it."""
    from evacase.demo import DemoFailed, fill
    from evacase.runtime import running

    settings = Settings.from_env()
    configure_logging(settings.log_format, ONE_SHOT_LOG_LEVEL)
    with _database(settings) as dsn:
        asyncio.run(_prepare_database(dsn))
        secret = _ensure_secret(
            dataclasses.replace(settings, database_url=dsn if settings.database_url else None), True
        )
        if not secret:
            return _fatal("the demo mints HS256 tokens: set EVACASE_JWT_SECRET (a public-key set-up cannot)")

        async def run() -> dict[str, object]:
            async with running(dataclasses.replace(settings, database_url=dsn), build_registry(), secret) as rt:
                return await fill(rt, secret)

        try:
            shown = asyncio.run(run())
        except DemoFailed as exc:
            return _fatal(f"the demo could not be written: {exc}")
    tokens = shown["tokens"]
    assert isinstance(tokens, dict)
    hints = {
        "explorer": f"{args.url}/docs (paste a token above)",
        "openapi": f"{args.url}/openapi.json",
        "metrics": f"{args.url}/metrics",
        "list_as_employee": f"curl -s {args.url}/message/ListCases -H 'Authorization: Bearer {tokens['employee']}'"
        " -d '{}'",
    }
    print(json.dumps({"made": shown["made"], "tokens": tokens, "try": hints}, indent=2))  # noqa: T201 - output
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    document = openapi_document(build_registry(), package_version())
    print(msgspec.json.format(msgspec.json.encode(document)).decode())  # noqa: T201 - the command's output
    return 0


class DefaultsShown(argparse.HelpFormatter):
    """Help that names each option's default, where it has one worth saying."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default not in (None, False, [], argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evacase", description="Case management that speaks EVA's case API.")
    parser.add_argument("--version", action="version", version=f"evacase {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="command")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text, formatter_class=DefaultsShown)

    serve = command("serve", "run the service (embedded PostgreSQL when DATABASE_URL is unset)")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="the port to listen on")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    serve.add_argument(
        "--no-worker", action="store_true", help="leave out the event-export delivery worker (run `evacase worker`)"
    )
    serve.set_defaults(func=cmd_serve)

    worker = command("worker", "run the background work alone: event deliveries and the periodic jobs (DATABASE_URL)")
    worker.set_defaults(func=cmd_worker)

    token = command("token", "print a signed token for local use (EVACASE_JWT_SECRET or the one under EVACASE_HOME)")
    token.add_argument("--user-id", type=int, required=True, help="the token's `sub`")
    token.add_argument("--user-type", choices=sorted(USER_TYPES), required=True, help="EVA's user type")
    token.add_argument("--functionality", action="append", default=[], help="e.g. Cases:View (repeatable)")
    token.add_argument("--name", help='"First Last"')
    token.add_argument("--email", help="the `email` claim")
    token.add_argument(
        "--organization-unit", type=int, action="append", default=[], help="an organization unit ID (repeatable)"
    )
    token.add_argument(
        "--case-scope",
        choices=CASE_SCOPES,
        action="append",
        default=None,
        help="limit an employee to cases assigned to them, unassigned or created by them (repeatable)",
    )
    token.add_argument("--custom-id", help="the `custom_id` claim")
    token.add_argument("--backend-id", help="the `backend_id` claim")
    token.add_argument("--expires-in", type=int, default=86400, help="seconds")
    token.set_defaults(func=cmd_token)

    sett = command("settings", "show (and with --set, change) the settings kept in the database")
    sett.add_argument(
        "--set",
        action="append",
        default=[],
        help="e.g. PushCases:AutoCreateTopic=false or Blobs:DefaultLifeTime=60 (minutes) (repeatable)",
    )
    sett.set_defaults(func=cmd_settings)

    user = command("user", "create or update a user record (given fields replace, others stay)")
    user.add_argument("user_id", type=int, help="the user's ID (a token's `sub`)")
    user.add_argument("--user-type", choices=sorted(USER_TYPES), help="default for a new user: employee")
    user.add_argument("--name", help='"First Last"')
    user.add_argument("--email", help="the user's e-mail address")
    user.add_argument("--custom-id", help="how other systems know the user (PushCase assignees)")
    user.add_argument("--backend-id", help="the user's BackendID")
    user.set_defaults(func=cmd_user)

    demo = command("demo", "fill the database with a believable shop to try evacase with, and print tokens for it")
    demo.add_argument("--url", default="http://127.0.0.1:8000", help="where evacase serve answers (for the hints)")
    demo.set_defaults(func=cmd_demo)

    described = command("openapi", "print the OpenAPI 3.1 document of every service (as GET /openapi.json serves it)")
    described.set_defaults(func=cmd_openapi)

    mig = command("migrate", "apply the schema to DATABASE_URL (or the embedded PostgreSQL)")
    mig.set_defaults(func=cmd_migrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `evacase`: what it can do
        parser.print_help()
        return 0
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
