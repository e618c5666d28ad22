"""The console script imports only the command asked for, and every command still works."""

from __future__ import annotations

import subprocess
import sys

import pytest

from workers import entry


def test_every_command_is_found_in_the_module_that_registers_it() -> None:
    from workers.cli import commands  # noqa: F401  (registers every command)
    from workers.cli.app import app

    registered = {
        (c.name or c.callback.__name__): c.callback.__module__  # type: ignore[union-attr]
        for c in app.registered_commands
    }
    for group in app.registered_groups:
        first = group.typer_instance.registered_commands[0].callback  # type: ignore[union-attr]
        registered[str(group.name)] = first.__module__  # type: ignore[union-attr]
    expected = {name: f"workers.cli.{module}" for name, module in entry.COMMAND_MODULES.items()}
    assert registered == expected


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["validate", "list.csv"], "validate"),
        (["--log-format", "json", "run", "list.csv"], "run"),
        (["--log-format=json", "status"], "status"),
        (["--help"], None),
        ([], None),
    ],
)
def test_the_command_a_line_names(argv: list[str], command: str | None) -> None:
    assert entry.command_of(argv) == command


RUN = """
import sys
sys.argv = ["dialer", *sys.argv[1:]]
from workers.entry import main
try:
    main()
except SystemExit:
    pass
print("loaded:", " ".join(sorted(m for m in sys.modules if m.startswith("workers.cli."))))
"""


def test_a_command_imports_its_own_module_only() -> None:
    out = subprocess.run(
        [sys.executable, "-c", RUN, "validate", "--help"], capture_output=True, text=True
    ).stdout
    loaded = out.rsplit("loaded:", 1)[1].split()
    assert "workers.cli.validate" in loaded
    assert not {"workers.cli.serve", "workers.cli.run", "workers.cli.demo"} & set(loaded)
    assert "Usage: dialer validate" in out


def test_help_and_a_mistyped_command_see_every_command() -> None:
    out = subprocess.run(
        [sys.executable, "-c", RUN, "--help"], capture_output=True, text=True
    ).stdout
    for name in entry.COMMAND_MODULES:
        assert name in out
    typo = subprocess.run([sys.executable, "-c", RUN, "valdate"], capture_output=True, text=True)
    assert "Did you mean 'validate'?" in typo.stdout + typo.stderr
