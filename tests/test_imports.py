"""Nothing happens at import, and the packages import each other without a cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dialer", "campaigns", "workers")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(tree: ast.AST, known: dict[str, Path], *, typing: bool = False) -> Iterator[str]:
    """Every project module `tree` imports, at module level or in a function (and, with
    `typing`, the ones under `if TYPE_CHECKING:`, which never run)."""
    for node in ast.walk(tree):
        if not typing and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names]
            inside = [name for name in names if name in known]  # `from pkg import module`
            yield from inside or ([node.module] if node.module in known else [])


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}  # 1: on the path being explored, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_no_import_cycle() -> None:
    known = _modules()
    graph = {
        name: set(_imported(ast.parse(path.read_text()), known)) - {name}
        for name, path in known.items()
    }
    cycle = _cycle(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_no_import_cycle_even_for_types() -> None:
    """Two modules never need each other, not even for a type (windows <-> state_rules was)."""
    known = _modules()
    graph = {
        name: set(_imported(ast.parse(path.read_text()), known, typing=True)) - {name}
        for name, path in known.items()
    }
    cycle = _cycle(graph)
    assert not cycle, "import cycle (types included): " + " -> ".join(cycle)


def test_importing_builds_no_app_and_reads_no_settings() -> None:
    """Every module imports with settings that cannot be read, and no Celery app exists after."""
    names = sorted(_modules())
    code = "\n".join(
        [
            "import importlib, celery._state",
            *(f"importlib.import_module({name!r})" for name in names),
            "assert not list(celery._state._get_active_apps()), 'a Celery app was built'",
        ]
    )
    env = {"PATH": "/usr/bin:/bin", "DIALER_LOG_FORMAT": "not-a-format"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_cli_loads_the_web_app_only_to_serve() -> None:
    """Every `dialer` command imports `workers.cli`; the web app (pages, file exports with
    openpyxl and numpy) costs ~0.15 s CPU at start, so only `dialer serve` imports it."""
    code = (
        "import sys, workers.cli\n"
        "loaded = {'workers.server.app', 'openpyxl', 'numpy'} & set(sys.modules)\n"
        "assert not loaded, sorted(loaded)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


LAYERS = {"dialer": 0, "campaigns": 1, "workers": 2}  # each may import only those before it


def test_the_packages_depend_one_way_dialer_campaigns_workers() -> None:
    known = _modules()
    upward = sorted(
        f"{name} imports {imported}"
        for name, path in known.items()
        for imported in _imported(ast.parse(path.read_text()), known)
        if LAYERS[imported.split(".")[0]] > LAYERS[name.split(".")[0]]
    )
    assert upward == []
