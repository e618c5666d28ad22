"""Each job has one home: only the lifecycle loads lists into the store and starts campaigns,
only the preflight runs the preflight's checks, only the stack module opens the store and
starts the embedded Redis and workers (read off the code, by AST)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dialer", "campaigns", "workers")
LOADING = {"begin_load", "add_contacts", "end_load"}


def _sources() -> dict[str, ast.Module]:
    """Every module of the packages but the store's own, by its path from the root."""
    return {
        str(path.relative_to(ROOT)): ast.parse(path.read_text())
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if not str(path.relative_to(ROOT)).startswith("dialer/store/")
    }


def _called(tree: ast.AST) -> set[str]:
    """The names every call in `tree` calls (`f(...)` and `x.f(...)` both give `f`)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                found.add(node.func.attr)
            elif isinstance(node.func, ast.Name):
                found.add(node.func.id)
    return found


def _starts(tree: ast.AST) -> bool:
    """Whether `tree` sets a campaign's state to RUNNING (which is starting it)."""
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "set_campaign_state"
        and "RUNNING" in ast.unparse(node)
        for node in ast.walk(tree)
    )


def _store_opened(tree: ast.AST) -> bool:
    """Whether `tree` builds a `Store` (`Store.from_url(...)` or `Store(...)`)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "Store":
            return True
        if isinstance(func, ast.Attribute) and ast.unparse(func) == "Store.from_url":
            return True
    return False


def _public_functions(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
    }


def _imports(tree: ast.AST, module: str) -> bool:
    parent, _, name = module.rpartition(".")
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.module == module:
            return True
        if node.module == parent and any(alias.name == name for alias in node.names):
            return True
    return False


def test_only_the_lifecycle_loads_lists_and_starts_campaigns() -> None:
    sources = _sources()
    loaders = sorted(path for path, tree in sources.items() if _called(tree) & LOADING)
    starters = sorted(path for path, tree in sources.items() if _starts(tree))
    assert loaders == ["campaigns/lifecycle.py"]
    assert starters == ["campaigns/lifecycle.py"]


def test_only_the_preflight_runs_the_preflight_checks() -> None:
    checks = _public_functions("campaigns/checks.py")
    assert {"check_access", "check_quota", "check_countries", "check_workers"} <= checks
    runners = sorted(
        path
        for path, tree in _sources().items()
        if path != "campaigns/checks.py"
        and _imports(tree, "campaigns.checks")
        and _called(tree) & checks
    )
    assert runners == ["campaigns/preflight.py"]


def test_only_the_stack_module_opens_the_store_and_starts_the_embedded_stack() -> None:
    sources = _sources()
    openers = sorted(path for path, tree in sources.items() if _store_opened(tree))
    starting = {"embedded_redis", "embedded_worker"}
    starters = sorted(
        path
        for path, tree in sources.items()
        if path != "workers/processes.py" and _called(tree) & starting
    )
    assert openers == ["workers/stack.py"]
    assert starters == ["workers/stack.py"]


def test_the_structure_checks_see_a_door_that_loads_by_itself() -> None:
    """The checks above can fail: a door written the old way is caught."""
    door = ast.parse(
        "def submit(store, cid):\n"
        "    load = store.begin_load(cid)\n"
        "    store.set_campaign_state(cid, CampaignState.RUNNING)\n"
        "    return Store.from_url('redis://')\n"
    )
    assert _called(door) & LOADING and _starts(door) and _store_opened(door)


def test_no_signature_surgery_and_no_error_classified_by_its_text() -> None:
    """Options and forms are declared as objects (no `__signature__` patched anywhere), and the
    server answers an error from its status and field, never from its message."""
    sources = {
        str(path.relative_to(ROOT)): path.read_text()
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert [path for path, text in sources.items() if "__signature__" in text] == []
    errors = ast.parse(sources["workers/server/errors.py"])
    assert not _called(errors) & {"startswith", "search", "match", "compile", "split"}
