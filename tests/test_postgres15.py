"""evacase on the PostgreSQL people already run (issue 18): Debian's PostgreSQL 15, the oldest version supported
(`.ci/run` installs it), with a role that may create databases and is no superuser — the schema, the migrations
from the first landed schema, and the service's journeys work there, and no server setting is changed."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from evacase.migrate import migrate, schema_version
from tests.conftest import make_settings, serving
from tests.helpers import customer, employee
from tests.test_migrations import FIRST_LANDED_SCHEMA, SCHEMA_QUERY

BIN = Path("/usr/lib/postgresql/15/bin")
AGENT = employee(60, ["Cases:Manage"], case_scopes=["unassigned", "assigned"])


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user Debian's package made."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres15() -> Iterator[str]:
    """A throwaway PostgreSQL 15 cluster; the DSN of `evacase`, a role with CREATEDB and nothing more."""
    workdir = Path(tempfile.mkdtemp(prefix="pg15-"))
    if os.geteuid() == 0:
        os.chown(workdir, pwd.getpwnam("postgres").pw_uid, pwd.getpwnam("postgres").pw_gid)
    data = workdir / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run(_as_postgres([str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]), **run)
    options = f"-k {workdir} -c listen_addresses='' -p {port}"
    subprocess.run(  # the server's own output to its log file: a pipe held by it would never close
        _as_postgres([str(BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(workdir / "log"), "-w", "start"]),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
    )
    try:
        admin = f"postgresql://postgres@/postgres?host={workdir}&port={port}"
        subprocess.run(
            _as_postgres(
                [
                    str(BIN / "psql"),
                    admin,
                    "-c",
                    "CREATE ROLE evacase LOGIN CREATEDB",
                    "-c",
                    "CREATE DATABASE evacase OWNER evacase",
                ]
            ),
            **run,
        )
        yield f"postgresql://evacase@/evacase?host={workdir}&port={port}"
    finally:
        subprocess.run(_as_postgres([str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), check=False)
        shutil.rmtree(workdir, ignore_errors=True)


async def test_the_schema_migrations_and_service_work_on_postgres_15_as_a_plain_role(postgres15: str) -> None:
    conn = await asyncpg.connect(postgres15)
    try:
        assert (await conn.fetchval("SHOW server_version_num")).startswith("15")
        assert await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user") is False
        settings_before = await conn.fetch("SELECT name, setting FROM pg_settings ORDER BY name")
        await conn.execute("CREATE DATABASE evacase_old")
        await conn.execute("CREATE DATABASE evacase_new")
    finally:
        await conn.close()
    old = await asyncpg.connect(postgres15.replace("/evacase?", "/evacase_old?"))
    new = await asyncpg.connect(postgres15.replace("/evacase?", "/evacase_new?"))
    try:
        await old.execute(FIRST_LANDED_SCHEMA.read_text())
        assert await migrate(old) == schema_version() == await migrate(new)
        assert [tuple(r) for r in await old.fetch(SCHEMA_QUERY)] == [tuple(r) for r in await new.fetch(SCHEMA_QUERY)]
    finally:
        await old.close()
        await new.close()
    async with serving(make_settings(postgres15.replace("/evacase?", "/evacase_new?"))) as api:
        created = await api.ok(
            "CustomerCreateCase",
            {"TopicID": 1, "Title": "On fifteen", "Description": "d", "CustomerReference": "R"},
            customer(5),
        )
        await api.ok("AddCaseTags", {"CaseID": created["ID"], "Tags": ["pg15"]}, AGENT)
        listed = await api.ok("ListCases", {"InitialPageConfig": {"Filter": {"Tag": "pg15"}}}, AGENT)
        assert [r["ID"] for r in listed["Results"]] == [created["ID"]]
        found = await api.ok("ListCases", {"InitialPageConfig": {"Filter": {"Title": "fifteen"}}}, AGENT)
        assert [r["ID"] for r in found["Results"]] == [created["ID"]]  # the trigram index, as a plain role made it
        await api.ok("CustomerCancelCase", {"ID": created["ID"], "Reason": "Testing."}, customer(5))
        assert (await api.ok("GetCaseByID", {"ID": created["ID"]}, employee(61, ["Cases:View"])))["StatusID"] == 4
    conn = await asyncpg.connect(postgres15)
    try:
        assert await conn.fetch("SELECT name, setting FROM pg_settings ORDER BY name") == settings_before
    finally:
        await conn.close()
