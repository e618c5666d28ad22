"""The Typer application every command module registers on, and its global options."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from dialer.settings import load_settings
from workers.logs import FORMATS, configure


class Out(Console):
    """The console commands print to: at a terminal, text wraps to its width; in a log, a pipe
    or a file (cron, nohup, CI), every message stays on one line, whole for grep."""

    @property
    def soft_wrap(self) -> bool:
        """Rich's default for `print(soft_wrap=...)`: no hard wrapping without a terminal."""
        return not self.is_terminal

    @soft_wrap.setter
    def soft_wrap(self, value: bool) -> None:
        """Ignored: whether to wrap follows where the output goes."""


class Group(TyperGroup):
    """A command group whose help lists each command with its whole first sentence, wrapped to
    the width (Click would cut it short with "...")."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:  # Typer's own click types
        """The commands and what each does."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, first_sentence(command.short_help or command.help or "")))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def first_sentence(text: str) -> str:
    """The first sentence of a help text, its lines joined."""
    joined = " ".join(text.split("\n\n", 1)[0].split())
    end = joined.find(". ")
    return joined if end < 0 else joined[: end + 1]


app = typer.Typer(
    cls=Group,
    name="dialer",
    help="Outbound campaign dialer for OneInbox AI voice agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: wrapped to the width, nothing cut, sections by panel
)


@app.callback()
def global_options(
    log_format: Annotated[
        str,
        typer.Option(help="Log lines as text or json (workers started from here follow it)."),
    ] = "",
) -> None:
    """Outbound campaign dialer for OneInbox AI voice agents."""
    if log_format:
        if log_format not in FORMATS:
            raise typer.BadParameter(
                f"choose one of {', '.join(FORMATS)}", param_hint="--log-format"
            )
        os.environ["DIALER_LOG_FORMAT"] = log_format  # read by Settings, here and in children
    configure(log_format or load_settings().log_format)
