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
    "core/errors.py",
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


# The one module of core a pure module may import: the project's error base (itself pure, above).
PURE_MAY_IMPORT = {"core.errors"}


@pytest.mark.parametrize("relative", PURE)
def test_pure_modules_import_no_django_models(relative):
    wrong = [
        f"{relative}:{line} imports {module}"
        for line, module in imports(ROOT / relative)
        if module not in PURE_MAY_IMPORT
        and (module.startswith("django") or module.endswith(".models") or module.startswith("core"))
    ]
    assert not wrong, "\n".join(wrong)


# --- No import cycles ---------------------------------------------------------------------------


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def first_party_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for top in ("core", "betting")
        for path in (ROOT / top).rglob("*.py")
        if "migrations" not in path.parts
    }


def _type_checking_only(tree: ast.AST) -> set[int]:
    """The nodes under ``if TYPE_CHECKING:``: imports for annotations, never run."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for child in node.body for inner in ast.walk(child))
    return skipped


def import_graph() -> dict[str, set[str]]:
    """module -> the first-party modules it imports. Every import counts, at the top or inside a
    function (a function-local import hides a cycle from Python, not from the design), except those
    under ``if TYPE_CHECKING:``. ``from a.b import c`` points at ``a.b.c`` when that is a module,
    else at ``a.b``; relative imports are resolved."""
    modules = first_party_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        skipped = _type_checking_only(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names if alias.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in modules:
                        targets.add(full)
                    elif base in modules:
                        targets.add(base)
        graph[name] = targets - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path that returns to its start) per strongly connected group of modules."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


def test_the_import_graph_finds_a_cycle_when_there_is_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_first_party_modules_import_no_cycle():
    graph = import_graph()
    assert len(graph) > 100 and sum(map(len, graph.values())) > 300  # the walk did see the project
    found = cycles(graph)
    assert not found, "import cycles (every import counts, function-local ones too):\n" + "\n".join(
        " -> ".join(cycle) for cycle in found
    )


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
