"""The options of a campaign run, declared once and shared by `run`, `retry`, `check` and
`schedule add` (which stores them, to use when the job fires)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from workers.cli import options
from workers.planning import RunOptions

F = TypeVar("F", bound=Callable[..., Any])


def _template(
    agent_id: Annotated[
        str | None, typer.Option(help="OneInbox agent id (default: DIALER_AGENT_ID).")
    ] = None,
    from_number: Annotated[
        str | None,
        typer.Option(help="Registered caller number, E.164 (default: DIALER_FROM_NUMBER)."),
    ] = None,
    rate: Annotated[str, typer.Option(help="Most creates per time, e.g. 1/s, 30/m.")] = "1/s",
    max_concurrent: Annotated[
        int, typer.Option(min=1, help="Most calls in progress at once (dialling until final).")
    ] = 10,
    webhook_url: Annotated[
        str | None,
        typer.Option(help="URL of `dialer webhooks` (http://HOST:8080/webhooks/oneinbox)."),
    ] = None,
    phone_column: options.PhoneColumn = None,
    default_region: options.DefaultRegion = "US",
    dnc: options.Dnc = None,
    variables: options.Variables = None,
    allow_types: options.AllowTypes = None,
    sheet: options.Sheet = None,
    window: options.WindowOpt = "08:00-21:00",
    days: options.Days = "mon-sun",
    rules: options.Rules = None,
    start_at: options.StartAt = None,
    deadline: options.Deadline = None,
    tz: options.Tz = None,
    max_attempts: options.MaxAttempts = 1,
    retry_on: options.RetryOn = "no_answer,failed",
    retry_delay: options.RetryDelay = "30m",
) -> None:
    """Declares the run options for Typer; never called."""


_PARAMETERS = list(inspect.signature(_template, eval_str=True).parameters.values())
_NAMES = frozenset(p.name for p in _PARAMETERS)


def with_run_options(*, exclude: frozenset[str] = frozenset()) -> Callable[[F], F]:
    """Give a command (which takes `**run`) every run option declared above, but `exclude`."""

    def decorate(command: F) -> F:
        own = [
            p
            for p in inspect.signature(command, eval_str=True).parameters.values()
            if p.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        shared = [p for p in _PARAMETERS if p.name not in exclude]
        command.__signature__ = inspect.Signature([*own, *shared])  # type: ignore[attr-defined]
        return command

    return decorate


def run_options(values: dict[str, Any]) -> RunOptions:
    """The run options among a command's keyword arguments."""
    picked = {k: v for k, v in values.items() if k in _NAMES}
    if picked.get("dnc") is not None:
        picked["dnc"] = str(Path(picked["dnc"]).resolve())
    return RunOptions(**picked)
