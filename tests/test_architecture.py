"""The import rules of ../shared/docs/ARCHITECTURE.md, checked on the source (every import
statement, top-level or inside a function), so a shortcut across layers fails the suite."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> the first-party packages it may import (besides itself)
ALLOWED = {
    "core": set(),
    "betting.games": {"core"},
    "betting.predictions": {"core", "betting.games"},
    "betting.bets": {"core", "betting.games", "betting.predictions"},
    # The JSON API is the outer layer: it may call every domain app (through API_MAY_USE) and
    # nothing imports it (core/urls.py names it as a string).
    "betting.api": {"core", "betting.games", "betting.predictions", "betting.bets"},
}
FIRST_PARTY = ("core", "betting.games", "betting.predictions", "betting.bets", "betting.api")
# What of a domain app the API may import: its services and selectors (and the scanner, imports,
# the backtest's error and the task that runs it), its models for types and lookups by key.
API_MAY_USE = {"models", "services", "selectors", "edges", "imports", "backtest", "tasks"}
PURE = [
    "betting/bets/pricing.py",
    "betting/bets/scanner.py",
    "betting/bets/staking.py",
    "betting/games/market.py",
    "betting/games/devig.py",
    "betting/predictions/elo.py",
    "betting/predictions/staleness.py",
    "betting/predictions/training.py",
    "betting/predictions/features.py",
    *(str(p.relative_to(ROOT)) for p in (ROOT / "betting/games/providers").glob("*.py")),
]


def imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def owner(module: str) -> str | None:
    for package in FIRST_PARTY:
        if module == package or module.startswith(package + "."):
            return package
    return None


def sources(package: str) -> list[Path]:
    folder = ROOT / package.replace(".", "/")
    return [p for p in folder.rglob("*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("package", list(ALLOWED))
def test_who_may_import_whom(package):
    # core's settings name task paths as strings only; they import nothing from betting
    files = [p for p in sources(package) if "settings" not in p.parts]
    wrong = []
    for path in files:
        for line, module in imports(path):
            target = owner(module)
            if target and target != package and target not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not wrong, f"{package} may import only {sorted(ALLOWED[package]) or 'nothing first-party'}:\n" + "\n".join(
        wrong
    )


@pytest.mark.parametrize("relative", PURE)
def test_pure_modules_import_no_django_models(relative):
    wrong = [
        f"{relative}:{line} imports {module}"
        for line, module in imports(ROOT / relative)
        if module.startswith("django") or module.endswith(".models") or module.startswith("core")
    ]
    assert not wrong, "\n".join(wrong)


def test_the_api_calls_services_and_selectors_only():
    domain = ("betting.games", "betting.predictions", "betting.bets")
    wrong = []
    for path in sources("betting.api"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                used = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # "from betting.bets import services" names the module in the alias
                used = [f"{node.module}.{a.name}" if node.module in domain else node.module for a in node.names]
            else:
                continue
            for module in used:
                target = owner(module)
                if target in domain and module.removeprefix(target).strip(".").split(".")[0] not in API_MAY_USE:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {module}")
    assert not wrong, f"the API may use only {sorted(API_MAY_USE)} of the domain apps:\n" + "\n".join(wrong)
