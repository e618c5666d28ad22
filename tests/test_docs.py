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
        for path in (ROOT / "tests").glob("test_*.py")
        for name in re.findall(r"^def (test_[a-z0-9_]+)", path.read_text(), re.MULTILINE)
    }
    assert len(named) > 20
    assert named <= defined, f"docs/security.md names missing tests: {named - defined}"
