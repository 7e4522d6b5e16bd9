"""GET /metrics (issue 18): requests by service and status with their latency, database faults, the pool, the
outbox's lag and job runs, in Prometheus' text format; with several workers, every worker's figures added up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import asyncpg
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import Api, customer, employee
from tests.test_cli import _free_port, _post, _stop, _wait_healthy, evacase


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def requests_of(figures: dict[tuple[str, tuple[tuple[str, str], ...]], float], service: str, status: str) -> float:
    return figures.get(("evacase_requests_total", (("service", service), ("status", status))), 0.0)


async def test_requests_faults_pool_and_outbox_are_counted(api: Api, db: asyncpg.Connection) -> None:
    before = samples((await api.client.get("/metrics")).text)
    for _ in range(3):
        await api.ok("Ping", {}, customer(5))
    await api.error("GetCaseByID", {"ID": 999}, employee(60, ["Cases:View"]), 404)
    await api.call("NoSuchService", {}, customer(5))
    page = await api.client.get("/metrics")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    after = samples(page.text)
    assert requests_of(after, "Ping", "200") - requests_of(before, "Ping", "200") == 3
    assert requests_of(after, "GetCaseByID", "404") - requests_of(before, "GetCaseByID", "404") == 1
    assert requests_of(after, "unknown", "404") - requests_of(before, "unknown", "404") == 1  # never the raw name
    assert not [key for key in after if ("service", "NoSuchService") in key[1]]
    count = after[("evacase_request_duration_seconds_count", (("service", "Ping"),))]
    assert count - before.get(("evacase_request_duration_seconds_count", (("service", "Ping"),)), 0) == 3
    assert after[("evacase_pool_connections", (("state", "open"),))] >= 1
    assert after[("evacase_pool_waiters", ())] == 0
    assert after[("evacase_outbox_lag_seconds", ())] == 0  # nothing waits for a delivery


def test_several_workers_add_their_figures_up(db_dsn: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVACASE_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(DATABASE_URL=db_dsn, EVACASE_HOME=str(tmp_path), EVACASE_JWT_SECRET="s" * 32, EVACASE_WORKER="false")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "evacase.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_healthy(port, proc)
        tok = evacase("token", "--user-id", "8", "--user-type", "customer", env=env).stdout.strip()
        for _ in range(20):
            _post(port, "Ping", {}, tok)
        time.sleep(0.2)
        seen = set()
        for _ in range(6):  # whichever worker answers, it reports all twenty
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                seen.add(requests_of(samples(r.read().decode()), "Ping", "200"))
        assert seen == {20.0}
        assert len(list((tmp_path / "metrics").glob("*.db"))) >= 2  # each worker's own files
    finally:
        _stop(proc)
