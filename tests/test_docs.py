"""The README and --help tell the truth: every command is documented, every option explained."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from typer.main import get_command
from typer.testing import CliRunner

from workers.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _commands(group: Any, prefix: str = "dialer") -> dict[str, Any]:
    """Every leaf command by its full path (Typer's own click, so duck-typed)."""
    found: dict[str, Any] = {}
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if hasattr(command, "commands"):
            found.update(_commands(command, path))
        else:
            found[path] = command
    return found


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    assert "./dev demo" in first_block and "./dev test" in first_block
    assert "./dev test" in (ROOT / ".ci" / "run").read_text()


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    cli = get_command(app)
    missing = [
        path
        for path in _commands(cli)
        if path.split(" ", 1)[1] not in readme or f"`{path}" not in readme
    ]
    assert not missing, f"not documented in README.md: {missing}"


def test_every_command_and_option_has_help() -> None:
    cli = get_command(app)
    for path, command in _commands(cli).items():
        assert command.help, f"{path} has no help"
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert param.help, f"{path} {param.opts} has no help"


def test_help_runs_for_every_command() -> None:
    runner = CliRunner()
    cli = get_command(app)
    for path in _commands(cli):
        result = runner.invoke(app, [*path.split()[1:], "--help"])
        assert result.exit_code == 0, f"{path} --help failed: {result.output}"


def test_every_test_docs_security_names_exists() -> None:
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", (ROOT / "docs" / "security.md").read_text()))
    defined = {
        name
        for path in (ROOT / "tests").rglob("test_*.py")
        for name in re.findall(r"^def (test_[a-z0-9_]+)", path.read_text(), re.MULTILINE)
    }
    assert len(named) > 20
    assert named <= defined, f"docs/security.md names missing tests: {named - defined}"


def _help_at_80(args: list[str]) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


def test_every_help_reads_whole_at_80_columns() -> None:
    cli = get_command(app)
    groups = ["", *(p.split()[1] for p in _commands(cli) if len(p.split()) == 3)]
    pages = {path: _help_at_80(path.split()[1:]) for path in _commands(cli)}
    pages.update({f"dialer {g}".strip(): _help_at_80(g.split()) for g in set(groups)})
    for path, text in pages.items():
        body = [line for line in text.splitlines() if not line.startswith("Usage:")]
        assert not [line for line in body if len(line) > 80], f"{path}: wider than 80"
        cut = [line for line in body if line.rstrip().endswith("...") or "…" in line]
        assert not cut, f"{path}: cut short: {cut}"
        assert "<bool>" not in text, f"{path}: a flag shows a <bool> value"


def test_run_help_gives_descriptions_the_width_and_groups_the_options() -> None:
    text = _help_at_80(["run"])
    assert len(text.splitlines()) <= 91  # one line per option added since (--rename)
    for section in ("Contacts:", "Pace:", "When:", "Retries:", "Output:"):
        assert f"\n{section}\n" in text
    # Descriptions start at most 32 columns in: they get most of the width.
    starts = [
        len(line) - len(line.lstrip()) for line in text.splitlines() if line.startswith(" " * 20)
    ]
    assert starts and max(starts) <= 32
    # A docstring's sentence is never broken by its source line breaks.
    flat = " ".join(text.split())
    assert "(08:00-21:00 by default); contacts outside it wait" in flat
