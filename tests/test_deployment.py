"""The deployment recipe (issue 18): the Dockerfile and compose.yaml. No container engine runs on the build
machines (the docker client is there, no daemon; no base image can be pulled), so the recipe is checked without
one: the Dockerfile is parsed by BuildKit's own parser (the `dockerfile` package) and held to its promises (slim,
non-root, a health check on /health), its build step is run on exactly the context .dockerignore lets through, and
compose.yaml's services are started as the processes it describes — with its environment, on a test database —
until the image's HEALTHCHECK command passes and a signed request is answered."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import dockerfile
import jwt
import pytest
import yaml

from evacase.cli import build_parser
from evacase.config import Settings
from tests.processes import free_port, post, stop, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
SECRET = "compose-test-secret-compose-test-secret"


def instructions() -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(ROOT / "Dockerfile")))


def final_stage(commands: list[dockerfile.Command]) -> list[dockerfile.Command]:
    last_from = max(i for i, c in enumerate(commands) if c.cmd == "FROM")
    return commands[last_from:]


def test_the_image_is_slim_runs_as_no_root_and_checks_its_health() -> None:
    commands = instructions()
    stages = [c.value[0] for c in commands if c.cmd == "FROM"]
    assert stages and all(re.fullmatch(r"python:3\.1[1-9]-slim", image) for image in stages), stages
    final = final_stage(commands)
    users = [c.value[0] for c in final if c.cmd == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    assert not [c for c in commands if c.cmd == "ADD"]  # nothing fetched from URLs or unpacked implicitly
    (health,) = [c for c in final if c.cmd == "HEALTHCHECK"]
    assert health.json and health.value[0] == "CMD" and "/health'" in health.value[-1]
    (cmd,) = [c for c in final if c.cmd == "CMD"]
    assert cmd.json and cmd.value[0] == "evacase"
    args = build_parser().parse_args(list(cmd.value[1:]))
    assert (args.host, args.port) == ("0.0.0.0", 8000)
    assert [c.value for c in final if c.cmd == "EXPOSE"] == [("8000",)]
    assert all("--no-cache-dir" in c.value[0] for c in commands if c.cmd == "RUN" and "pip " in c.value[0])


def context_files() -> list[Path]:
    """The files `docker build .` sends: .dockerignore's patterns in order, a `!` taking a path back in."""
    rules = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    rules = [r for r in rules if r and not r.startswith("#")]
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    sent = []
    for name in tracked.split():
        keep = True
        for rule in rules:
            negate = rule.startswith("!")
            pattern = rule.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(name, pattern) or name.startswith(pattern + "/"):
                keep = negate
        if keep:
            sent.append(Path(name))
    return sent


def test_the_build_step_makes_a_complete_package_from_the_context_dockerignore_sends(tmp_path: Path) -> None:
    files = context_files()
    assert Path("pyproject.toml") in files and Path("evacase/schema.sql") in files
    assert not [f for f in files if f.parts[0] in ("tests", "scripts", ".git", "docs")]
    context = tmp_path / "context"
    for name in files:  # the COPY lines' sources, laid out as the Dockerfile lays them out in /src
        target = context / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_symlink():
            target.symlink_to(os.readlink(ROOT / name))
        else:
            shutil.copy(ROOT / name, target)
    copies = [c.value for c in instructions() if c.cmd == "COPY" and not c.flags]
    for sources_and_target in copies:
        for source in sources_and_target[:-1]:
            assert (context / source).exists(), f"COPY {source}: not in the build context"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-cache-dir", "--no-deps", "-q", "--wheel-dir", "wheels", "."],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (context / "wheels").glob("evacase-*.whl")
    import zipfile

    # The package ships the schema, the migrations, the SQL beside each domain and the explorer's files.
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {"evacase/schema.sql", "evacase/explorer/explorer.html", "evacase/explorer/explorer.js"}
    shipped |= {f"evacase/explorer/{p.name}" for p in (ROOT / "evacase" / "explorer").glob("*.css")}
    shipped |= {f"evacase/sql/{p.name}" for p in (ROOT / "evacase" / "sql").glob("*.sql")}
    shipped |= {f"evacase/migrations/{p.name}" for p in (ROOT / "evacase" / "migrations").glob("*.sql")}
    assert shipped <= names, shipped - names
    assert zipfile.ZipFile(wheel).read("evacase/schema.sql") == (ROOT / "schema.sql").read_bytes()


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} (an unset or empty VAR with :? is an error)."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        current = env.get(name, "")
        if op == ":?" and not current:
            raise KeyError(f"{name}: {arg}")
        if op == ":-" and not current:
            return arg or ""
        return current

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:[-?])([^}]*))?\}", one, value)


def compose(env: dict[str, str]) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    for service in document["services"].values():
        service["environment"] = {k: interpolate(str(v), env) for k, v in service.get("environment", {}).items()}
    return document


def test_compose_wires_postgres_the_service_and_the_worker() -> None:
    with pytest.raises(KeyError, match="EVACASE_JWT_SECRET"):  # no per-host generated secret: it must be given
        compose({})
    services = compose({"EVACASE_JWT_SECRET": SECRET})["services"]
    assert set(services) == {"postgres", "evacase", "worker"}
    assert services["postgres"]["healthcheck"]["test"][0] == "CMD-SHELL"
    assert services["evacase"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["worker"]["depends_on"] == {"evacase": {"condition": "service_healthy"}}
    assert services["evacase"]["build"] == "." and services["worker"]["image"] == services["evacase"]["image"]
    assert services["evacase"]["ports"] == ["8000:8000"]
    for name in ("evacase", "worker"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"] == "postgresql://evacase:evacase@postgres:5432/evacase"
        settings = Settings.from_env(env)  # every value is one evacase accepts
        assert settings.jwt_secret == SECRET
        build_parser().parse_args(services[name]["command"][1:])
    serve = build_parser().parse_args(services["evacase"]["command"][1:])
    assert serve.no_worker and serve.host == "0.0.0.0"
    assert Settings.from_env(services["evacase"]["environment"]).background_jobs is False
    assert Settings.from_env(services["worker"]["environment"]).background_jobs is True


def test_the_compose_services_run_as_described_until_the_health_check_passes(db_dsn: str, tmp_path: Path) -> None:
    services = compose({"EVACASE_JWT_SECRET": SECRET})["services"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("EVACASE_") and k != "DATABASE_URL"}
    port = free_port()
    procs = []
    for name in ("evacase", "worker"):
        env = {**base, **services[name]["environment"], "DATABASE_URL": db_dsn, "EVACASE_HOME": str(tmp_path / name)}
        command = [a if a != "8000" else str(port) for a in services[name]["command"][1:]]
        command = [a if a != "0.0.0.0" else "127.0.0.1" for a in command]  # the container's address, here
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "evacase.cli", *command],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        wait_healthy(port, procs[0])
        (health,) = [c for c in final_stage(instructions()) if c.cmd == "HEALTHCHECK"]
        probe = [sys.executable if a == "python" else a.replace(":8000/", f":{port}/") for a in health.value[1:]]
        assert subprocess.run(probe, timeout=10, check=False).returncode == 0
        tok = jwt.encode({"sub": "5", "user_type": 2, "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
        assert post(port, "Ping", {}, tok) == {}
        assert procs[1].poll() is None  # the worker runs beside it
    finally:
        errors = [stop(proc, signal.SIGTERM) for proc in procs]
    assert '"event":"serving"' in errors[0]
    assert '"event":"development_signing_secret"' not in errors[0]  # the configured secret, never a generated one
