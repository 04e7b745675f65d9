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
}
FIRST_PARTY = ("core", "betting.games", "betting.predictions", "betting.bets")
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
