"""The benchmark's parts that need no load generator: the data loader, the limit app, the budget report.

The loader runs for real (a small load into a database of its own on the test server); evacase and the limit app
then answer from that data, and must agree with each other on what they return."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import dsn_for, make_settings, serving
from tests.helpers import customer, employee

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))
sys.path.insert(0, str(SCRIPTS / "bench"))
load_data: Any = importlib.import_module("load_data")
limit_app: Any = importlib.import_module("limit_app")
_spec = importlib.util.spec_from_file_location("bench_run", SCRIPTS / "bench" / "run.py")
assert _spec and _spec.loader
bench: Any = importlib.util.module_from_spec(_spec)
sys.modules["bench_run"] = bench  # dataclasses look their module up while the module runs
_spec.loader.exec_module(bench)

CASES = 1000
DATABASE = "evacase_bench_test"


def load_args(**overrides: Any) -> argparse.Namespace:
    args = load_data.build_parser().parse_args(["--cases", str(CASES), "--database", DATABASE])
    for key, value in overrides.items():
        setattr(args, key, value)
    return load_data.resolve(args)


@pytest.fixture(scope="module")
async def loaded(pg_admin_dsn: str) -> AsyncIterator[str]:
    dsn = await load_data.prepare(pg_admin_dsn, load_args(force=True))
    assert dsn == dsn_for(pg_admin_dsn, DATABASE)
    yield dsn
    admin = await asyncpg.connect(pg_admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    finally:
        await admin.close()


async def fetch(dsn: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def test_the_loader_writes_the_volume_asked_for_with_skew(loaded: str) -> None:
    (counts,) = await fetch(
        loaded,
        """SELECT (SELECT count(*) FROM cases) AS cases, (SELECT count(*) FROM interactions) AS interactions,
                  (SELECT count(*) FROM users WHERE user_type = 2) AS customers,
                  (SELECT count(*) FROM users WHERE user_type = 1) AS employees,
                  (SELECT count(*) FROM case_topics) AS topics, (SELECT count(*) FROM case_statuses) AS statuses""",
    )
    assert dict(counts) == {
        "cases": CASES,
        "interactions": 5 * CASES,
        "customers": 20,
        "employees": 20,
        "topics": 15,
        "statuses": 6,
    }
    per_customer = [
        r["n"] for r in await fetch(loaded, "SELECT count(*) AS n FROM cases GROUP BY customer_id ORDER BY 1 DESC")
    ]
    assert per_customer[0] > 5 * per_customer[len(per_customer) // 2]  # a heavy customer, a long tail
    heavy = await fetch(loaded, "SELECT customer_id FROM cases GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    assert heavy[0]["customer_id"] == 1
    # Every case opens with its two ledger lines; the heavy customer's newest case is the busy one.
    (ledger,) = await fetch(
        loaded,
        """SELECT count(*) FILTER (WHERE n < 2) AS without_ledger FROM (
               SELECT c.id, count(i.id) AS n FROM cases c
               LEFT JOIN interactions i ON i.case_id = c.id AND i.type = 2 GROUP BY c.id) x""",
    )
    assert ledger["without_ledger"] == 0
    (busy,) = await fetch(loaded, "SELECT case_id, count(*) AS n FROM interactions GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
    newest = await fetch(loaded, "SELECT max(id) AS id FROM cases WHERE customer_id = 1")
    assert busy["case_id"] == newest[0]["id"] and busy["n"] >= 2000
    # Closed statuses have a closing time, open ones none.
    (closing,) = await fetch(
        loaded,
        """SELECT count(*) FILTER (WHERE s.is_closed <> (c.closing_time IS NOT NULL)) AS wrong
           FROM cases c JOIN case_statuses s ON s.id = c.status_id""",
    )
    assert closing["wrong"] == 0


async def test_the_loader_restores_the_schemas_indexes_and_sequences(loaded: str, template_dsn: str) -> None:
    query = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
    assert [tuple(r) for r in await fetch(loaded, query)] == [tuple(r) for r in await fetch(template_dsn, query)]
    conn = await asyncpg.connect(loaded)
    try:
        new_id = await conn.fetchval(
            "INSERT INTO cases (customer_id, topic_id, status_id, title)"
            " VALUES (1, 1, 1, 'After the load') RETURNING id"
        )
        assert new_id == CASES + 1
        await conn.execute("DELETE FROM cases WHERE id = $1", new_id)
    finally:
        await conn.close()


async def test_a_second_load_with_the_same_parameters_keeps_the_data(pg_admin_dsn: str, loaded: str) -> None:
    marker = "kept " + str(id(loaded))
    conn = await asyncpg.connect(loaded)
    try:
        await conn.execute("UPDATE cases SET summary = $1 WHERE id = 1", marker)
    finally:
        await conn.close()
    assert await load_data.prepare(pg_admin_dsn, load_args()) == loaded
    assert (await fetch(loaded, "SELECT summary FROM cases WHERE id = 1"))[0]["summary"] == marker


async def limit_call(app: Any, path: str, body: dict[str, Any]) -> Any:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://limit.test") as client:
        r = await client.post(path, content=json.dumps(body))
        assert r.status_code == 200, r.text
        return r.json()


async def test_evacase_and_the_limit_app_answer_alike_from_the_loaded_data(loaded: str) -> None:
    app = limit_app.create_app(loaded)
    busy = (await fetch(loaded, "SELECT max(id) AS id FROM cases WHERE customer_id = 1"))[0]["id"]
    async with app.router.lifespan_context(app), serving(make_settings(loaded)) as api:
        token = customer(1, "Customer", "1")
        case = await api.ok("CustomerGetCaseByID", {"ID": busy}, token)
        row = await limit_call(app, "/lookup", {"ID": busy, "CustomerID": 1})
        assert (row["ID"], row["Title"], row["StatusID"], row["TopicID"]) == (
            case["ID"],
            case["Title"],
            case["StatusID"],
            case["TopicID"],
        )
        # every column the customer's view shows
        shown = ("OrderID", "IsWarranty", "ClosingTime", "Solution", "CustomerReference", "CancellationReason")
        assert {k for k in shown if row[k] not in (None, False)} == {
            k for k in shown if case.get(k) not in (None, False)
        }
        assert [row[k] for k in ("OrderID", "Solution")] == [case.get(k) for k in ("OrderID", "Solution")]
        assert not (row["HasContacts"] or row["HasLinks"] or row["HasCustomFields"])
        assert not {"CustomFields", "Contacts", "LinkedCases"} & set(case)  # none here, as the flags say
        evacase_page = await api.ok("CustomerListCases", {}, token)
        limit_page = await limit_call(app, "/list_cases", {"CustomerID": 1})
        assert [c["ID"] for c in evacase_page["Results"]] == [c["ID"] for c in limit_page["Results"]]
        orders = [c["OrderID"] for c in limit_page["Results"]]
        assert orders == [c.get("OrderID") for c in evacase_page["Results"]] and any(orders)
        assert len(limit_page["Results"]) == 25
        await fetch(
            loaded,
            "UPDATE interactions SET last_modification_time = now() WHERE id = (SELECT id FROM interactions"
            " WHERE case_id = $1 AND type = 0 ORDER BY creation_time DESC, id DESC LIMIT 1)",
            busy,
        )
        evacase_lines = await api.ok("CustomerListCaseInteractions", {"CaseID": busy}, token)
        limit_lines = await limit_call(app, "/list_interactions", {"CaseID": busy, "CustomerID": 1})
        assert [i["ID"] for i in evacase_lines["Results"]] == [i["ID"] for i in limit_lines["Results"][:25]]
        assert len(limit_lines["Results"]) == 26  # the row after the page, as evacase reads it
        modified = [i["LastModificationTime"] is not None for i in limit_lines["Results"][:25]]
        assert modified == ["LastModificationTime" in i for i in evacase_lines["Results"]] and any(modified)
        closed = (
            await fetch(
                loaded,
                "SELECT s.is_closed FROM cases c JOIN case_statuses s ON s.id = c.status_id WHERE c.id = $1",
                busy,
            )
        )[0]["is_closed"]
        assert {i["IsClosed"] for i in limit_lines["Results"]} == {closed}
        created = await limit_call(
            app, "/create_case", {"CustomerID": 1, "TopicID": 2, "Title": "Bench case", "Description": "Bench"}
        )
        ledger = await fetch(loaded, "SELECT text FROM interactions WHERE case_id = $1 ORDER BY id", created["ID"])
        assert [r["text"] for r in ledger] == ["Case created with priority `Low`", "Case status set to `New`"]
        added = await limit_call(app, "/add_interaction", {"CaseID": created["ID"], "CustomerID": 1, "Text": "Hi"})
        assert added["ID"] > 0
        agent = employee(bench.EMPLOYEE, ["Cases:View", "PushCases:None"])
        view = await api.ok("GetCaseByID", {"ID": busy}, agent)
        row = await limit_call(app, "/employee_case", {"ID": busy})
        assert (row["id"], row["title"], row["status_name"], row["customer_first_name"]) == (
            view["ID"],
            view["Title"],
            view["StatusName"],
            view["Customer"]["FirstName"],
        )
        # the same rows: the topic chain (topic first), the blobs and related items, tags, the service level
        chain, topic = [], view.get("CaseTopic")
        while topic is not None:
            chain.append([topic["TopicID"], topic["TopicName"], topic.get("TopicBackendID"), topic["IsDeleted"]])
            topic = topic.get("CaseTopic")
        assert row["topic_chain"] == chain and chain
        assert [b[0] for b in row["blobs"]] == view.get("BlobIDs", [])
        assert [r[0] for r in row["related_items"]] == [r["ID"] for r in view.get("RelatedItems", [])]
        assert row["tags"] == view.get("Tags", [])
        assert row["sla_policy_id"] == view.get("ServiceLevel", {}).get("PolicyID")
        # ListCases and the limit app's list agree page by page for each filter the benchmark measures.
        newest = (
            await fetch(
                loaded,
                "UPDATE cases SET due_date = '2030-01-02T03:04:05Z' WHERE id = "
                "(SELECT max(id) FROM cases) RETURNING id",
            )
        )[0]["id"]
        for ev_filter, lim_body in [
            ({}, {}),
            ({"StatusID": 2}, {"Column": "status_id", "Value": 2}),
            ({"AssigneeID": 21}, {"Column": "assignee_id", "Value": 21}),
            ({"CustomerID": 1}, {"Column": "customer_id", "Value": 1}),
            ({"TopicID": 2}, {"Column": "topic_id", "Value": 2}),
            ({"Priority": 1}, {"Column": "priority", "Value": 1}),
            ({"Title": "#12"}, {"Title": "%#12%"}),
        ]:
            listed = await api.ok("ListCases", {"InitialPageConfig": {"Filter": ev_filter}}, agent)
            limited = await limit_call(app, "/employee_list", lim_body)
            assert [c["ID"] for c in listed["Results"]] == [r[0] for r in limited["Results"][:25]], ev_filter
            if not ev_filter:
                assert listed["Results"][0]["ID"] == newest and listed["Results"][0]["DueDate"]
            # the same columns: after the names, the due date and the service level (policy ID) evacase shows
            due_dates = [r[32] and r[32].replace("+00:00", "Z") for r in limited["Results"][:25]]
            assert due_dates == [c.get("DueDate") and c["DueDate"].replace(".000Z", "Z") for c in listed["Results"]]
            policies = [r[33] for r in limited["Results"][:25]]
            assert policies == [c.get("ServiceLevel", {}).get("PolicyID") for c in listed["Results"]], ev_filter
            assert listed["Results"], ev_filter
        await fetch(loaded, "UPDATE case_topics SET backend_id = $1 WHERE id = 2", bench.PUSH_TOPIC)
        body = bench.push_body("agree-1", 1)
        pushed = await api.ok("PushCase", body, agent)
        limit_pushed = await limit_call(app, "/push_new", bench.limit_push(body | {"BackendID": "agree-2"}))
        again = await limit_call(app, "/push_update", bench.limit_push(body | {"BackendID": "agree-2"}))
        assert again == limit_pushed
        shapes = await fetch(
            loaded,
            """SELECT c.id, c.customer_id, c.topic_id, c.status_id, c.title,
                      array_agg(i.type ORDER BY i.id) AS types, array_agg(i.backend_id ORDER BY i.id) AS backend_ids
               FROM cases c JOIN interactions i ON i.case_id = c.id WHERE c.id = ANY($1::bigint[])
               GROUP BY c.id ORDER BY c.id""",
            [pushed["ID"], limit_pushed["ID"]],
        )
        assert [tuple(r)[1:5] for r in shapes] == [tuple(shapes[0])[1:5]] * 2  # same customer, topic, status, title
        assert shapes[0]["backend_ids"][:2] == shapes[1]["backend_ids"][:2] == ["m1", "n1"]
    conn = await asyncpg.connect(loaded)
    try:
        await conn.execute(
            "DELETE FROM cases WHERE id = ANY($1::bigint[])", [created["ID"], pushed["ID"], limit_pushed["ID"]]
        )
        await conn.execute("UPDATE cases SET due_date = NULL WHERE id = $1", newest)
    finally:
        await conn.close()


def run_of(rps: float, p99: float, errors: int = 0) -> Any:
    return bench.Run(rps=rps, p50_ms=p99 / 2, p99_ms=p99, errors=errors)


def test_ratios_are_taken_repetition_by_repetition_against_the_drift() -> None:
    # The machine slows down by half between repetitions: each repetition's pair still says 0.8 or 0.9, the
    # median of those is the ratio (the ratio of the means would say 0.84).
    evacase = [run_of(800, 10), run_of(400, 20), run_of(900, 10)]
    limit = [run_of(1000, 20), run_of(500, 40), run_of(1000, 20)]
    assert bench.paired(evacase, limit, "rps") == 0.8
    assert bench.paired(evacase, limit, "p99_ms") == 0.5
    assert bench.paired(evacase[:2], limit[1:], "rps") == pytest.approx((1.6 + 0.4) / 2)  # an even count
    assert math.isnan(bench.paired([], limit, "rps"))


def test_each_repetition_runs_its_sides_close_together_and_every_other_one_backwards(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    order: list[str] = []

    def fake_wrk(url: str, requests_file: Path, seconds: float, c: int, meter: Any = None) -> Any:
        order.append(url)
        return run_of(100, 10)

    monkeypatch.setattr(bench, "wrk", fake_wrk)
    done = subprocess.Popen(["true"])
    done.wait()
    server = {name: bench.Server(name, name, done) for name in ("evacase", "limit", "base")}
    scenario = bench.Scenario("get", "CustomerGetCaseByID", tmp_path / "e", tmp_path / "l")
    args = argparse.Namespace(concurrency=[64], repeats=3, side_by_side=False, seconds=1)
    results = bench.measure(server["evacase"], server["limit"], [scenario], args, "db", server["base"])
    assert order == ["base", "evacase", "limit", "limit", "evacase", "base", "base", "evacase", "limit"]
    assert [len(results[0].base), len(results[0].evacase), len(results[0].limit)] == [3, 3, 3]
    order.clear()
    bench.measure(server["evacase"], server["limit"], [scenario], args, "db")
    assert order == ["evacase", "limit", "limit", "evacase", "evacase", "limit"]


def test_the_budget_report_checks_each_line() -> None:
    results = [
        bench.Result("get", "CustomerGetCaseByID", 64, [run_of(850, 30)] * 2, [run_of(1000, 25)] * 2),
        bench.Result("stringids", "StringIDs", 64, [run_of(800, 20)] * 2, [run_of(1000, 25)] * 2),
        bench.Result("create", "CustomerCreateCase", 64, [run_of(600, 30)] * 2, [run_of(1000, 25)] * 2),
        bench.Result("push_new", "PushCase", 64, [run_of(500, 30)] * 2, [run_of(1000, 25)] * 2),
        bench.Result(
            "push_update", "PushCase Update", 64, [run_of(900, 30)] * 2, [run_of(1000, 25), run_of(1000, 25, errors=7)]
        ),
        bench.Result("elist_status", "ListCases StatusID", 64, [run_of(750, 30)] * 2, [run_of(1000, 25)] * 2),
        bench.Result("list_first", "CustomerListCases page 1", 64, [run_of(1000, 20)] * 2, [run_of(1000, 20)] * 2),
        bench.Result("list_deep", "CustomerListCases page 1000", 64, [run_of(900, 20)] * 2, [run_of(1000, 20)] * 2),
    ]
    memory = [(float(t), 100_000 + (4_000 if t > 40 else 0)) for t in range(60)]
    lines = bench.budget(results, 64, memory, read_xids=0)
    assert lines == [
        "- [x] CustomerGetCaseByID at c64: 0.85x the limit app's requests/s (>= 0.8)",
        "- [ ] CustomerGetCaseByID at c64: p99 1.20x the limit app's (<= 1)",
        "- [x] StringIDs at c64: 0.80x the limit app's requests/s (>= 0.8)",
        "- [x] StringIDs at c64: p99 0.80x the limit app's (<= 1)",
        "- [ ] CustomerCreateCase at c64: 0.60x the limit app's requests/s (>= 0.7)",
        "- [x] PushCase at c64: 0.50x the limit app's requests/s (>= 0.5)",
        "- [ ] PushCase Update at c64: 0.90x the limit app's requests/s (>= 0.5) — not measured: 7 failed requests",
        "- [x] ListCases StatusID at c64: 0.75x the limit app's requests/s (>= 0.7)",
        "- [x] CustomerListCases page 1 at c64: 1.00x the limit app's requests/s (>= 0.8)",
        "- [x] CustomerListCases page 1 at c64: p99 1.00x the limit app's (<= 1)",
        "- [x] CustomerListCases page 1000 at c64: 0.90x the limit app's requests/s (>= 0.8)",
        "- [x] CustomerListCases page 1000 at c64: p99 1.00x the limit app's (<= 1)",
        "- [ ] StringIDs cost 1.06x plain CustomerGetCaseByID (requests/s, <= 1.05)",
        "- [x] CustomerListCases page 1000 costs 1.11x page 1 (requests/s, <= 1.3)",
        "- [x] read paths wrote nothing: 0 rows written or locked during the read runs",
        "- [x] RSS under load: last 10 s 1.040x the 5-15 s level (flat: <= 1.05)",
    ]
    table = bench.table(results)
    assert table[2] == "| CustomerGetCaseByID | 64 | 850 | 15.0 | 30.0 | 1,000 | 12.5 | 25.0 | 0.85 | 1.20 |"


def run_bench(pg_admin_dsn: str, tmp_path: Path, *options: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    """run.py on the small loaded database, a second per run, once: its output and the figures it wrote."""
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [
            *(sys.executable, str(SCRIPTS / "bench" / "run.py"), "--dsn", pg_admin_dsn, "--database", DATABASE),
            *("--cases", str(CASES), "--seconds", "1", "--concurrency", "4", "--repeats", "1"),
            *("--warmup-seconds", "0", "--memory-seconds", "0", "--no-pgbench", "--json", str(out), *options),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result, json.loads(out.read_text())


def test_the_benchmark_runs_every_scenario_on_small_data(pg_admin_dsn: str, loaded: str, tmp_path: Path) -> None:
    # A smoke of the real thing (wrk, evacase serve, the limit app, every scenario) so the scripts never rot:
    # one second per run, no timing assertions; every request of every scenario must have succeeded.
    result, figures = run_bench(pg_admin_dsn, tmp_path, "--side-by-side")
    keys = {r["key"] for r in figures["results"]}
    assert keys >= {
        "get",
        "stringids",
        "cors",
        "employee_get",
        "list_first",
        "interactions",
        "create",
        "message",
        "push_new",
        "push_update",
        "mixed",
        "elist",
        "elist_status",
        "elist_assignee",
        "elist_customer",
        "elist_title",
        "state",
        "note",
    }, keys
    failed = {
        r["key"]: [run["errors"] for run in r["evacase"] + r["limit"]]
        for r in figures["results"]
        if any(run["errors"] or not run["rps"] for run in r["evacase"] + r["limit"])
    }
    assert failed == {}, result.stderr[-3000:]
    assert figures["read_xids"] == 0
    assert "Budget:" in result.stdout


def test_compare_serves_a_commit_beside_the_checkout(pg_admin_dsn: str, loaded: str, tmp_path: Path) -> None:
    # --compare REV: evacase at REV from a worktree of its own beside this checkout, both measured, a table of
    # the two; the worktree is gone afterwards.
    result, figures = run_bench(pg_admin_dsn, tmp_path, "--scenarios", "get,message", "--compare", "HEAD")
    assert [(r["key"], len(r["base"]), len(r["evacase"]), len(r["limit"])) for r in figures["results"]] == [
        ("get", 1, 1, 1),
        ("message", 1, 1, 1),
    ]
    assert all(run["rps"] > 0 and not run["errors"] for r in figures["results"] for run in r["base"]), figures
    assert "Compared with HEAD (base: that commit; here: this checkout):" in result.stdout
    assert "| CustomerGetCaseByID | 4 |" in result.stdout.split("Compared with HEAD")[1]
    worktrees = subprocess.run(["git", "worktree", "list"], capture_output=True, text=True, check=True, cwd=SCRIPTS)
    assert len(worktrees.stdout.splitlines()) == 1, worktrees.stdout


async def test_the_cpu_meter_finds_the_databases_backends_and_counts_their_time(loaded: str) -> None:
    # What the CPU table reads: the backends serving the bench database (by their process titles) and the CPU
    # seconds of processes, from /proc.
    conn = await asyncpg.connect(loaded)
    try:
        pid = conn.get_server_pid()
        assert pid in bench.backend_pids(DATABASE)
        assert pid not in bench.backend_pids("evacase_no_such_database")
        before = bench.cpu_by_pid([pid])
        await conn.fetchval("SELECT count(*) FROM generate_series(1, 3000000)")  # work for the backend
        after = bench.cpu_by_pid([pid, 2**22 + 12345])  # a process that is not there is left out
        assert set(after) == {pid} and bench.cpu_since(before, after) > 0
        # A process that ended between the readings drops out; one born since counts all it used.
        assert bench.cpu_since({1: 5.0, 2: 1.0}, {2: 1.5, 3: 0.25}) == 0.75
    finally:
        await conn.close()


def test_a_run_with_errors_says_what_evacase_answered(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    lines = [
        {"event": "request", "service": "PushCase", "status": 409, "error_code": "Case:AlreadyExists"},
        {"event": "request", "service": "PushCase", "status": 200, "error_code": None},
        {"event": "request", "service": "PushCase", "status": 409, "error_code": "Case:AlreadyExists"},
        {"event": "request", "service": "PushCase", "status": 503, "error_code": "DatabaseTimeout"},
        {"event": "database_timeout", "level": "warning"},
    ]
    log.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")
    assert bench.failed_answers(log) == "PushCase 409 Case:AlreadyExists: 2, PushCase 503 DatabaseTimeout: 1"


def test_two_runs_of_the_load_script_never_send_the_same_numbered_body(tmp_path: Path) -> None:
    # requests.lua numbers {{seq}} bodies per run and thread: a number from an earlier run would push an existing
    # BackendID again (the limit app then fails those requests). Two runs a moment apart, every body recorded.
    import http.server
    import threading

    bodies: list[bytes] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        requests = bench.write_requests(tmp_path, "seq", [("/push", "", {"BackendID": "new-{{seq}}"})])
        url = f"http://127.0.0.1:{server.server_address[1]}"
        for _ in range(2):
            command = ["wrk", "-t2", "-c4", "-d1s", "-s", str(bench.LUA), url, "--", str(requests)]
            subprocess.run(command, check=True, capture_output=True, timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    ids = [json.loads(b)["BackendID"] for b in bodies]
    assert len(ids) > 20 and len(set(ids)) == len(ids)
    nonces = {i.split("-")[1] for i in ids}
    assert len(nonces) == 4 and all(len(n) == 12 for n in nonces)  # two runs of two threads, 12 hex digits each
