"""The `dialer` console script: it imports the one command module asked for, then runs the CLI.

Importing every command module (the web app's FastAPI, Celery, the simulator, the scheduler)
cost about 1.2 s of CPU before any command ran, and most commands need few of them: `dialer
validate` of a million rows spent a quarter of its time there. A line naming a command imports
only the module that registers it; anything else (`dialer`, `--help`, a mistyped command) imports
them all, so help and Click's suggestions list every command.
"""

from __future__ import annotations

import sys

import workers

# Each command and command group -> the module of workers.cli that registers it
# (tests/workers/cli/test_entry.py checks this against what the modules register).
COMMAND_MODULES = {
    "agents": "telephony",
    "beat": "beat",
    "cancel": "control",
    "check": "check",
    "demo": "demo",
    "dnc": "dnc",
    "events": "events",
    "export": "control",
    "limits": "limits",
    "numbers": "telephony",
    "pause": "control",
    "report": "report",
    "resume": "control",
    "retry": "retry",
    "run": "run",
    "schedule": "schedule",
    "serve": "serve",
    "setup": "telephony",
    "simulator": "simulator",
    "status": "control",
    "validate": "validate",
    "webhooks": "webhooks",
    "worker": "worker",
}


def command_of(argv: list[str]) -> str | None:
    """The command a command line names: its first word that is no global option (None when
    an option such as --help comes first)."""
    words = iter(argv)
    for word in words:
        if word == "--log-format":
            next(words, None)
        elif not word.startswith("--log-format="):
            return None if word.startswith("-") else word
    return None


def main() -> None:
    """Entry point of the `dialer` console script."""
    workers.CLI_ONLY = COMMAND_MODULES.get(command_of(sys.argv[1:]) or "")
    from workers.cli import main as run_cli

    run_cli()
