"""The run options as form fields, derived from `RunOptions` so the API follows the model.

Every field of `RunOptions` becomes a form field of the same name (`agent_id`, `max_attempts`,
...) with the model's type, default and help line, except those that name a file on the
server's disk (`Cli(path=True)`: those are the CLI's), so a new run option reaches the API
without a change here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, Optional

from fastapi import Form

from dialer.run_options import Cli, RunOptions


def _cli(name: str) -> Cli | None:
    return next((m for m in RunOptions.model_fields[name].metadata if isinstance(m, Cli)), None)


def form_fields(exclude: frozenset[str] = frozenset()) -> list[str]:
    """The run options a form takes (not those naming a file on the server: never over HTTP)."""
    return [
        name
        for name in RunOptions.model_fields
        if name not in exclude and not getattr(_cli(name), "path", False)
    ]


def run_options_form(exclude: frozenset[str] = frozenset()) -> Callable[..., dict[str, Any]]:
    """A FastAPI dependency reading the run options from the form; only those given are kept,
    so the model's defaults (and the server's own, like the webhook URL) apply to the rest."""
    parameters = []
    for name in form_fields(exclude):
        optional: Any = Optional[RunOptions.model_fields[name].annotation]  # noqa: UP045
        form = Form(description=_describe(name))
        parameters.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[optional, form],
            )
        )

    def given(**values: Any) -> dict[str, Any]:
        return {name: value for name, value in values.items() if value not in (None, "")}

    given.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return given


def _describe(name: str) -> str:
    info, cli = RunOptions.model_fields[name], _cli(name)
    default = "" if info.default in (None, "") else f" (default {info.default})"
    text = cli.help if cli else f"`dialer run --{name.replace('_', '-')}`"
    return f"{text}{default}"


def build(values: dict[str, Any], *, webhook_url: str | None) -> RunOptions:
    """The run options: those given, the server's webhook URL unless one was given."""
    if webhook_url and not values.get("webhook_url"):
        values = {**values, "webhook_url": webhook_url}
    return RunOptions.model_validate(values)
