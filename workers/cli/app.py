"""The Typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="dialer",
    help="Outbound campaign dialer for OneInbox AI voice agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
