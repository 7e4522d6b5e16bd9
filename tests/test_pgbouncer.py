"""evacase behind PgBouncer (issue 18), a real one (Debian's package; `.ci/run` installs it), in session and
transaction mode with PgBouncer's default configuration: no start-up parameters sent, no statement kept prepared
across transactions in transaction mode, the planner and timeout settings taken from the role (with a warning
naming the ALTER ROLE statements while they are missing)."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest

from evacase.db import missing_role_settings
from evacase.migrate import migrate_dsn
from tests.conftest import make_settings, serving
from tests.helpers import customer, employee

AGENT = employee(60, ["Cases:Manage", "PushCases"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_pgbouncer(pg_admin_dsn: str, mode: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    """PgBouncer in `mode` in front of the session's PostgreSQL (its Unix socket), on a free TCP port; otherwise
    its default configuration (notably no ignore_startup_parameters)."""
    query = parse_qs(urlsplit(pg_admin_dsn).query)
    sockets = query["host"][0]
    server_port = query.get("port", ["5432"])[0]
    workdir = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    os.chmod(workdir, 0o777)
    port = _free_port()
    user = urlsplit(pg_admin_dsn).username or "postgres"
    (workdir / "users.txt").write_text(f'"{user}" ""\n')
    (workdir / "pgbouncer.ini").write_text(
        f"[databases]\n* = host={sockets} port={server_port}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {workdir}/users.txt\npool_mode = {mode}\n"
        f"max_client_conn = 200\ndefault_pool_size = 10\nlogfile = {workdir}/pgbouncer.log\n"
    )
    command = [shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses root: run as the owner of the server's socket directory
        command[1:1] = ["-u", pwd.getpwuid(os.stat(sockets).st_uid).pw_name]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port, workdir
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
        time.sleep(0.1)
    raise AssertionError("pgbouncer did not start")


@pytest.fixture(scope="module", params=["transaction", "session"])
def pgbouncer(request: pytest.FixtureRequest, pg_admin_dsn: str) -> Iterator[tuple[str, int]]:
    proc, port, workdir = start_pgbouncer(pg_admin_dsn, request.param)
    try:
        yield request.param, port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
async def through_pgbouncer(
    pgbouncer: tuple[str, int], db_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    mode, port = pgbouncer
    monkeypatch.setenv("EVACASE_POOLER", mode)
    yield f"postgresql://{urlsplit(db_dsn).username or 'postgres'}@127.0.0.1:{port}/{urlsplit(db_dsn).path.lstrip('/')}"


async def test_the_service_works_through_pgbouncer_and_names_the_role_settings_it_needs(
    through_pgbouncer: str, pgbouncer: tuple[str, int], db_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    mode, _ = pgbouncer
    assert await migrate_dsn(through_pgbouncer) > 0  # migrations pass through it too (already current here)
    async with serving(make_settings(through_pgbouncer, pooler=mode)) as api:
        warned = capsys.readouterr().out + capsys.readouterr().err
        assert (
            "pooler_role_settings_missing" in warned
            and f"ALTER ROLE {urlsplit(through_pgbouncer).username} SET enable_bitmapscan" in warned
        )
        created = await asyncio.gather(
            *(
                api.ok("CustomerCreateCase", {"TopicID": 1, "Title": f"Case {i:03}", "Description": "d"}, customer(5))
                for i in range(20)
            )
        )
        ids = sorted(c["ID"] for c in created)
        work = []
        for case_id in ids:
            work += [
                api.ok("GetCaseByID", {"ID": case_id}, AGENT),
                api.ok("UpdateCaseState", {"ID": case_id, "StatusID": 2}, AGENT),
                api.ok("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": "Any news?"}, customer(5)),
            ]
        await asyncio.gather(*work)
        listed = await api.ok("ListCases", {"InitialPageConfig": {"Filter": {"StatusID": 2}, "Limit": 100}}, AGENT)
        assert sorted(r["ID"] for r in listed["Results"]) == ids
        push = {"BackendID": "PB-1", "Title": "Pushed", "Description": "d", "Status": "New", "Topic": "Other"}
        assert (await api.ok("PushCase", push, AGENT))["ID"] > 0
        page = await api.ok("CustomerListCases", {"InitialPageConfig": {"Limit": 5}}, customer(5))
        more = await api.ok("CustomerListCases", {"PageToken": page["NextPageToken"]}, customer(5))
        assert len(page["Results"]) == len(more["Results"]) == 5
    direct = await asyncpg.connect(db_dsn)
    try:
        messages = await direct.fetchval("SELECT count(*) FROM interactions WHERE type = 0")
        assert messages == 20
    finally:
        await direct.close()


async def test_with_the_role_settings_in_place_nothing_is_missing(through_pgbouncer: str, db_dsn: str) -> None:
    direct = await asyncpg.connect(db_dsn)
    try:
        for statement in (
            "ALTER ROLE CURRENT_USER IN DATABASE {db} SET enable_bitmapscan = off",
            "ALTER ROLE CURRENT_USER IN DATABASE {db} SET plan_cache_mode = force_generic_plan",
            "ALTER ROLE CURRENT_USER IN DATABASE {db} SET statement_timeout = '5s'",
            "ALTER ROLE CURRENT_USER IN DATABASE {db} SET idle_in_transaction_session_timeout = '10s'",
        ):
            await direct.execute(statement.format(db=urlsplit(db_dsn).path.lstrip("/")))
    finally:
        await direct.close()
    conn = await asyncpg.connect(through_pgbouncer, statement_cache_size=0)
    try:
        assert await missing_role_settings(conn) == []
    finally:
        await conn.close()
