"""The layering of HOUSE_STYLE.md, held by reading every module's imports: app/cli/jobs -> dispatch, runtime,
services, domain; services -> domain and plumbing (no services module imports another, but `services.wire`);
domain -> plumbing only; jobs never import services; the base plumbing imports nothing above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "evacase"
ABOVE_DOMAIN = (
    "evacase.services",
    "evacase.dispatch",
    "evacase.app",
    "evacase.runtime",
    "evacase.cli",
    "evacase.jobs",
    "evacase.server",
)
BASE = {
    "evacase.errors": set(),
    "evacase.config": set(),
    "evacase.logs": set(),
    "evacase.pool": set(),
    "evacase.db": {"evacase.errors", "evacase.pool"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("evacase"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from evacase.domain import locks`
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("evacase"))
    return found


_ALL = {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}
# What each module imports of evacase's own modules (imported names that are not modules are left out).
MODULES = {name: {i for i in found if i in _ALL} for name, found in _ALL.items()}


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("evacase.domain")))
def test_domain_imports_plumbing_only(module: str) -> None:
    assert not [i for i in MODULES[module] if within(i, ABOVE_DOMAIN)]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("evacase.services.")))
def test_services_modules_do_not_import_one_another(module: str) -> None:
    assert MODULES[module], "every services module imports something of evacase's"
    others = [
        i for i in MODULES[module] if within(i, ("evacase.services",)) and not within(i, ("evacase.services.wire",))
    ]
    assert not others
    assert not [i for i in MODULES[module] if within(i, ("evacase.dispatch", "evacase.app", "evacase.runtime"))]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("evacase.jobs")))
def test_jobs_never_import_services(module: str) -> None:
    assert not [i for i in MODULES[module] if within(i, ("evacase.services", "evacase.dispatch", "evacase.app"))]


@pytest.mark.parametrize("module", sorted(BASE))
def test_base_plumbing_imports_nothing_above_it(module: str) -> None:
    assert MODULES[module] <= BASE[module]
