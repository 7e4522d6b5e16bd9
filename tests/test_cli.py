"""The `evacase` command: token minting, and `serve` end to end on an embedded PostgreSQL that keeps its data
across restarts and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import jwt

from evacase.auth import UserType, mint_token
from evacase.migrate import schema_version
from tests.helpers import Api, token
from tests.processes import free_port as _free_port
from tests.processes import post as _post
from tests.processes import postgres_running as _postgres_running
from tests.processes import serve as _serve
from tests.processes import stop as _stop
from tests.processes import wait_healthy as _wait_healthy

SECRET = "cli-test-secret-cli-test-secret-xx"
ROOT = Path(__file__).resolve().parent.parent


def evacase(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evacase.cli", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_token_prints_a_signed_token_with_the_documented_claims(tmp_path: Path) -> None:
    env = dict(os.environ, EVACASE_JWT_SECRET=SECRET, EVACASE_HOME=str(tmp_path))
    result = evacase(
        "token",
        "--user-id",
        "12",
        "--user-type",
        "employee",
        "--functionality",
        "Cases:View",
        "--functionality",
        "PushCases",
        "--name",
        "Ada King Lovelace",
        "--email",
        "ada@shop.example",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 86400
    del claims["exp"], claims["iat"]
    assert claims == {
        "sub": "12",
        "user_type": 1,
        "functionalities": ["Cases:View", "PushCases"],
        "given_name": "Ada",
        "family_name": "King Lovelace",
        "email": "ada@shop.example",
    }


def test_token_without_any_secret_explains_what_to_do(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVACASE_")}
    env["EVACASE_HOME"] = str(tmp_path)
    result = evacase("token", "--user-id", "1", "--user-type", "customer", env=env)
    assert result.returncode == 2 and "EVACASE_JWT_SECRET" in result.stderr


def test_version_help_and_a_scoped_token(tmp_path: Path) -> None:
    env = dict(os.environ, EVACASE_JWT_SECRET=SECRET, EVACASE_HOME=str(tmp_path))
    version = evacase("--version", env=env)
    assert (version.returncode, version.stdout) == (0, f"evacase {importlib.metadata.version('evacase')}\n")
    bare = evacase(env=env)
    assert bare.returncode == 0 and bare.stdout.startswith("usage: evacase")
    assert all(name in bare.stdout for name in ("serve", "worker", "token", "settings", "user", "migrate"))
    serve_help = evacase("serve", "--help", env=env)
    assert "the port to listen on (default: 8000)" in " ".join(serve_help.stdout.split())
    scoped = evacase(
        "token",
        "--user-id",
        "9",
        "--user-type",
        "employee",
        "--case-scope",
        "assigned",
        "--case-scope",
        "created",
        env=env,
    )
    claims = jwt.decode(scoped.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["case_scopes"] == ["assigned", "created"]


def test_serve_runs_on_an_embedded_postgres_that_survives_restarts_and_stops_on_sigterm_or_sigint(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVACASE_") and k != "DATABASE_URL"}
    env["EVACASE_HOME"] = str(tmp_path / "home")
    port = _free_port()
    proc = _serve(env, port)
    try:
        _wait_healthy(port, proc)
        tok = evacase("token", "--user-id", "8", "--user-type", "customer", "--name", "Jo Doe", env=env).stdout.strip()
        created = _post(
            port, "CustomerCreateCase", {"TopicID": 2, "Title": "Late parcel", "Description": "Where?"}, tok
        )
    finally:
        err = _stop(proc)
    assert "Generated a JWT signing secret" in err and '"event":"request"' in err
    assert err.index('"event":"schema_created"') < err.index('"event":"serving"')  # logged once bound
    pgdata = tmp_path / "home" / "pgdata"
    assert not _postgres_running(pgdata)

    proc = _serve(env, port)
    try:
        _wait_healthy(port, proc)
        got = _post(port, "CustomerGetCaseByID", {"ID": created["ID"]}, tok)
        assert (got["Title"], got["TopicName"], got["StatusName"]) == ("Late parcel", "Shipping", "New")
        topics = _post(port, "ListCaseTopics", {}, tok)
        assert len(topics["Results"]) == 7  # seeded once, not again at the second start
        smoke = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "smoke.py"), "--url", f"http://127.0.0.1:{port}", "--token", tok],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert smoke.returncode == 0, smoke.stderr
        assert smoke.stdout.count("--> ") == 8 and '"Text": "YourMessageHere"' in smoke.stdout
        assert "-> 70 bytes, image/png" in smoke.stdout
    finally:
        err = _stop(proc, signal.SIGINT)
    assert "Generated a JWT signing secret" not in err
    assert not _postgres_running(pgdata)


def test_instances_sharing_a_database_agree_on_the_generated_secret(db_dsn: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVACASE_")}
    env.update(DATABASE_URL=db_dsn, EVACASE_WORKER="false")
    ports = [_free_port(), _free_port()]
    procs = []
    for n, port in enumerate(ports):  # two hosts: each its own home, one database
        procs.append(_serve(dict(env, EVACASE_HOME=str(tmp_path / f"host{n}")), port))
    try:
        for port, proc in zip(ports, procs, strict=True):
            _wait_healthy(port, proc)
        tok = evacase("token", "--user-id", "8", "--user-type", "customer", env=env).stdout.strip()
        for port in ports:
            assert _post(port, "Ping", {}, tok) == {}
        # A generated secret is a development setup: the explorer mints tokens (here, on loopback), and each
        # instance takes the other's.
        minted = urllib.request.Request(f"http://127.0.0.1:{ports[0]}/docs/token", data=b'{"UserType":"employee"}')
        with urllib.request.urlopen(minted, timeout=10) as response:
            employee = json.loads(response.read())
        assert employee["UserID"] == 2 and "Cases" in employee["Functionalities"]
        assert _post(ports[1], "ListCases", {}, employee["Token"]) == {"Results": []}
    finally:
        errors = [_stop(proc) for proc in procs]
    assert all('"event":"development_signing_secret"' in err for err in errors)
    assert not list(tmp_path.glob("host*/jwt_secret*"))  # nothing per host


async def test_demo_fills_a_believable_shop_through_the_services(db_dsn: str, db: asyncpg.Connection) -> None:
    env = dict(os.environ, DATABASE_URL=db_dsn, EVACASE_JWT_SECRET=SECRET)
    result = await asyncio.to_thread(evacase, "demo", env=env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert set(shown["tokens"]) == {"customer", "employee", "integrator"}
    assert jwt.decode(shown["tokens"]["employee"], SECRET, algorithms=["HS256"])["user_type"] == 1
    assert shown["made"]["PushCase"] == 3 and shown["made"]["CustomerCreateCase"] == 6
    assert shown["try"]["explorer"] == "http://127.0.0.1:8000/docs (paste a token above)"
    statuses = dict(await db.fetch("SELECT status_id, count(*) FROM cases GROUP BY status_id"))
    assert statuses == {1: 5, 2: 2, 3: 1, 4: 1}  # every system status
    kinds = dict(await db.fetch("SELECT type, count(*) FROM interactions GROUP BY type"))
    assert kinds[0] >= 10 and kinds[1] >= 7 and kinds[2] > 20  # messages, private notes, ledger lines
    assert await db.fetchval("SELECT count(*) FROM case_tags") == 8
    assert await db.fetchval("SELECT count(*) FROM case_links") == 1
    assert await db.fetchval("SELECT count(*) FROM cases WHERE origin = 'Voice'") == 3


def test_migrate_brings_database_url_to_the_current_schema(db_dsn: str) -> None:
    env = dict(os.environ, DATABASE_URL=db_dsn)
    first = evacase("migrate", env=env)
    second = evacase("migrate", env=env)
    assert (first.returncode, first.stdout) == (0, f"schema at version {schema_version()}\n")
    assert (second.returncode, second.stdout) == (0, f"schema at version {schema_version()}\n")


def test_one_shot_commands_print_their_result_without_log_lines(tmp_path: Path) -> None:
    # On the embedded PostgreSQL (started, migrated and stopped for the command): the terminal shows the result
    # alone, not interleaved with the info lines `serve` writes.
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVACASE_") and k != "DATABASE_URL"}
    env["EVACASE_HOME"] = str(tmp_path)
    result = evacase("migrate", env=env)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"schema at version {schema_version()}\n", "")
    shown = evacase("settings", env=env)
    assert shown.returncode == 0 and shown.stderr == "" and "Cases:CustomerReopenWindow=20160" in shown.stdout


def test_settings_shows_and_changes_the_push_settings_and_the_blob_lifetime(db_dsn: str) -> None:
    env = dict(os.environ, DATABASE_URL=db_dsn)
    push = "PushCases:AutoCreateTopic=true\nPushCases:AutoCreateStatus={}\nPushCases:MatchUnverifiedEmail=false\n"
    shown = evacase("settings", env=env)
    reopen = "Cases:CustomerReopenWindow={}\n"
    assert (shown.returncode, shown.stdout) == (
        0,
        push.format("true") + "Blobs:DefaultLifeTime=1440\n" + reopen.format(20160),
    )
    changed = evacase(
        "settings",
        "--set",
        "PushCases:AutoCreateStatus=false",
        "--set",
        "Blobs:DefaultLifeTime=60",
        "--set",
        "Cases:CustomerReopenWindow=2880",
        env=env,
    )
    assert (changed.returncode, changed.stdout) == (
        0,
        push.format("false") + "Blobs:DefaultLifeTime=60\n" + reopen.format(2880),
    )
    refused = evacase("settings", "--set", "PushCases:Unknown=true", env=env)
    assert refused.returncode == 2 and "PushCases:AutoCreateTopic" in refused.stderr
    for bad in ("Blobs:DefaultLifeTime=0", "Blobs:DefaultLifeTime=soon", "PushCases:AutoCreateTopic=maybe"):
        refused = evacase("settings", "--set", bad, env=env)
        assert refused.returncode == 2 and bad in refused.stderr, bad


async def test_a_temporary_blob_lives_as_long_as_the_setting_says(api: Api, db: asyncpg.Connection) -> None:
    await db.execute("INSERT INTO settings (name, value) VALUES ('Blobs:DefaultLifeTime', '60')")
    data = {"Data": "iVBORw0KGgo=", "MimeType": "image/png"}
    guid = (await api.ok("StoreBlob", data, token(7, UserType.EMPLOYEE)))["Guid"]
    lifetime = await db.fetchval("SELECT expire_date - creation_time FROM blobs WHERE id = $1::uuid", guid)
    assert lifetime.total_seconds() == 3600


async def test_user_records_an_employee_push_case_can_assign(db_dsn: str, api: Api) -> None:
    env = dict(os.environ, DATABASE_URL=db_dsn)
    made = evacase("user", "81", "--name", "Eve Agent", "--email", "eve@shop.example", "--custom-id", "E-81", env=env)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout) == {
        "id": 81,
        "user_type": 1,
        "first_name": "Eve",
        "last_name": "Agent",
        "email_address": "eve@shop.example",
        "custom_id": "E-81",
        "backend_id": None,
    }
    changed = evacase("user", "81", "--custom-id", "E-82", env=env)
    assert json.loads(changed.stdout)["custom_id"] == "E-82" and json.loads(changed.stdout)["first_name"] == "Eve"
    refused = evacase("user", "1000000000000001", env=env)
    assert refused.returncode == 2 and "between 1 and" in refused.stderr
    push = {"BackendID": "A", "Title": "t", "Description": "d", "Status": "New", "Topic": "Other"}
    integrator = token(90, UserType.API, ["PushCases"])
    case_id = (await api.ok("PushCase", {**push, "Assignee": {"CustomID": "E-82"}}, integrator))["ID"]
    assert (await api.ok("GetCaseByID", {"ID": case_id}, token(91, UserType.EMPLOYEE, ["Cases"])))["AssigneeID"] == 81


def _read_lines_until(proc: subprocess.Popen[str], needle: str, count: int, timeout: float = 60) -> list[str]:
    """stderr lines until `count` of them contain `needle`."""
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while sum(needle in line for line in lines) < count:
        assert time.monotonic() < deadline, lines
        line = proc.stderr.readline()
        assert line or proc.poll() is None, lines
        lines.append(line)
    return lines


def test_serve_waits_for_a_database_that_is_not_up_yet_then_serves(
    tmp_path: Path, pg_admin_dsn: str, db_dsn: str
) -> None:
    # The database's Unix socket appears only later in the directory DATABASE_URL names, as when compose or
    # systemd starts evacase before PostgreSQL.
    sockets = Path(parse_qs(urlsplit(pg_admin_dsn).query)["host"][0])
    real_socket = next(sockets.glob(".s.PGSQL.*"))
    later = tmp_path / "sockets"
    later.mkdir()
    database = urlsplit(db_dsn).path.lstrip("/")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVACASE_")}
    env.update(
        DATABASE_URL=f"postgresql://postgres@/{database}?host={later}&port={real_socket.suffix.lstrip('.')}",
        EVACASE_JWT_SECRET=SECRET,
        EVACASE_HOME=str(tmp_path / "home"),
    )
    port = _free_port()
    proc = _serve(env, port)
    try:
        lines = _read_lines_until(proc, '"event":"database_not_ready"', 2)
        waits = [json.loads(line) for line in lines if "database_not_ready" in line]
        assert [(w["attempt"], w["retry_in_s"]) for w in waits] == [(1, 0.5), (2, 1.0)]
        assert all(line.startswith("{") for line in lines)  # one JSON line per try, no traceback
        (later / real_socket.name).symlink_to(real_socket)
        _wait_healthy(port, proc)
        assert _post(port, "Ping", {}, mint_token(SECRET, user_id=5, user_type=UserType.CUSTOMER)) == {}
    finally:
        _stop(proc)


def test_serve_with_an_unusable_configuration_exits_with_one_line(pg_admin_dsn: str, tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("EVACASE_")}
    base.update(EVACASE_JWT_SECRET=SECRET, EVACASE_HOME=str(tmp_path))
    missing = urlsplit(pg_admin_dsn)._replace(path="/no_such_database").geturl()
    cases = [
        (dict(base, DATABASE_URL=missing), "evacase: cannot use the database: InvalidCatalogNameError: "),
        (
            dict(base, DATABASE_URL=pg_admin_dsn, EVACASE_DB_TIMEOUT="soon"),
            "evacase: EVACASE_DB_TIMEOUT must be a number, got 'soon'\n",
        ),
    ]
    cases.append(
        (
            dict(base, DATABASE_URL=pg_admin_dsn, EVACASE_LOG_FORMAT="yaml"),
            "evacase: EVACASE_LOG_FORMAT must be one of json, console, got 'yaml'\n",
        )
    )
    for env, expected in cases:
        result = evacase("serve", "--port", str(_free_port()), env=env)
        assert result.returncode == 1
        assert result.stderr.startswith(expected), result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    with socket.socket() as busy:  # a port in use: one line, before any database is touched
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = evacase("serve", "--port", str(port), env=dict(base, DATABASE_URL=missing))
    assert (result.returncode, result.stderr) == (
        1,
        f"evacase: cannot serve on 127.0.0.1:{port}: Address already in use\n",
    )


def test_serve_drains_on_sigterm_health_first_then_exits(tmp_path: Path, db_dsn: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVACASE_")}
    env.update(DATABASE_URL=db_dsn, EVACASE_JWT_SECRET=SECRET, EVACASE_HOME=str(tmp_path), EVACASE_DRAIN_SECONDS="2")
    port = _free_port()
    proc = _serve(env, port)
    _wait_healthy(port, proc)
    tok = mint_token(SECRET, user_id=5, user_type=UserType.CUSTOMER)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    # Draining: out of the load balancer, yet still serving.
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5)
        raise AssertionError("/health answered 200 while draining")
    except urllib.error.HTTPError as exc:
        assert (exc.code, json.loads(exc.read())) == (503, {"Status": "ShuttingDown"})
    assert _post(port, "Ping", {}, tok) == {}
    assert proc.poll() is None
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def _try_post(port: int, service: str, body: dict[str, object], tok: str) -> None:
    """A request whose answer does not matter (the server may close the connection first)."""
    with contextlib.suppress(OSError):
        _post(port, service, body, tok)


def test_shutdown_waits_for_in_flight_requests_no_longer_than_its_deadline(tmp_path: Path, db_dsn: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVACASE_")}
    env.update(
        DATABASE_URL=db_dsn,
        EVACASE_JWT_SECRET=SECRET,
        EVACASE_HOME=str(tmp_path),
        EVACASE_DB_TIMEOUT="60",  # the request would wait a minute for the lock below...
        EVACASE_SHUTDOWN_TIMEOUT="2",  # ...but shutdown waits 2 s for it
    )
    port = _free_port()
    proc = _serve(env, port)
    _wait_healthy(port, proc)
    agent = mint_token(SECRET, user_id=7, user_type=UserType.EMPLOYEE, functionalities=["Cases"])
    case = _post(port, "CreateCase", {"Title": "Stuck", "Description": "d", "TopicID": 1}, agent)

    async def hold_and_stop() -> float:
        conn = await asyncpg.connect(db_dsn)
        try:
            async with conn.transaction():
                await conn.execute("SELECT 1 FROM cases WHERE id = $1 FOR UPDATE", case["ID"])
                stuck = threading.Thread(
                    target=lambda: _try_post(port, "UpdateCaseSummary", {"ID": case["ID"], "Summary": "x"}, agent)
                )
                stuck.start()
                await asyncio.sleep(0.5)
                started = time.monotonic()
                proc.send_signal(signal.SIGTERM)
                await asyncio.to_thread(proc.communicate, None, 30)
                return time.monotonic() - started
        finally:
            await conn.close()

    took = asyncio.run(hold_and_stop())
    assert proc.returncode == 0
    assert 1.5 < took < 10, took


async def test_worker_delivers_events_and_runs_the_scheduler(db_dsn: str, db: asyncpg.Connection) -> None:
    from tests.receiver import Receiver

    async with Receiver() as receiver:
        await db.execute(
            "INSERT INTO endpoint_configurations (id, name, endpoint, secret_key1, secret_key2)"
            " VALUES (1, 'CRM', $1, 'plain:k1', 'plain:k2')",
            receiver.url,
        )
        await db.execute(
            "INSERT INTO event_export_configurations (id, name, endpoint_configuration_id) VALUES (1, 'x', 1)"
        )
        env = dict(
            os.environ,
            DATABASE_URL=db_dsn,
            EVACASE_EVENT_EXPORTS_ALLOW_INSECURE="true",
            EVACASE_LOG_FORMAT="json",
            EVACASE_JOBS_INTERVAL_SECONDS="0.2",
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "evacase.cli", "worker", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert proc.stderr is not None
        # Its log read as it comes: a full pipe would stall the worker mid-line.
        reading = asyncio.ensure_future(proc.stderr.read())
        try:
            case_id = await db.fetchval(
                "INSERT INTO cases (topic_id, status_id, title) VALUES (1, 1, 'A') RETURNING id"
            )
            got = await receiver.wait_for(1, seconds=30)
            assert (got[0].event["EventType"], got[0].event["Identifier"]) == ("created", case_id)
            # The scheduler runs there too: a status that closes its cases after a moment closes this one.
            await db.execute(
                "INSERT INTO case_statuses (id, name, auto_close_after_hours) VALUES (9, 'Resolved', 0.0001)"
            )
            await db.execute("UPDATE cases SET status_id = 9 WHERE id = $1", case_id)
            for _ in range(300):
                if await db.fetchval("SELECT status_id FROM cases WHERE id = $1", case_id) == 3:
                    break
                await asyncio.sleep(0.1)
            assert await db.fetchval("SELECT status_id FROM cases WHERE id = $1", case_id) == 3
        finally:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 30)
            err = await asyncio.wait_for(reading, 30)
        assert proc.returncode == 0, err
        lines = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
        deliveries = [line for line in lines if line.get("event") == "event_delivery"]
        assert (deliveries[0]["event_type"], deliveries[0]["status"], deliveries[0]["attempt"]) == ("created", 200, 1)
        assert all(d["success"] for d in deliveries)  # the case's later changes were delivered too
        assert "k1" not in err.decode() and "k2" not in err.decode()  # never a secret in the log


def test_serve_help_names_no_worker() -> None:
    from evacase.cli import build_parser

    args = build_parser().parse_args(["serve", "--no-worker"])
    assert args.no_worker is True
    assert build_parser().parse_args(["worker"]).func.__name__ == "cmd_worker"
