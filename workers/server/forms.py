"""The run options as a form, derived from `RunOptions` so the API follows the model.

`RunOptionsForm` is a pydantic model with every field of `RunOptions` (`agent_id`,
`max_attempts`, ...), its type and help line, optional, except those that name a file on the
server's disk (`Cli(path=True)`: those are the CLI's), so a new run option reaches the API
without a change here. Routes take it (or a model derived from it, with their own fields) as
`Annotated[Model, Form()]`, FastAPI's form models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Optional

from fastapi import Form
from pydantic import BaseModel, Field, create_model

from dialer.run_options import Cli, RunOptions

MULTIPART = "multipart/form-data"  # a form model with a file in it: `Form(media_type=MULTIPART)`


def _cli(name: str) -> Cli | None:
    return next((m for m in RunOptions.model_fields[name].metadata if isinstance(m, Cli)), None)


def form_fields(exclude: frozenset[str] = frozenset()) -> list[str]:
    """The run options a form takes (not those naming a file on the server: never over HTTP)."""
    return [
        name
        for name in RunOptions.model_fields
        if name not in exclude and not getattr(_cli(name), "path", False)
    ]


def _describe(name: str) -> str:
    info, cli = RunOptions.model_fields[name], _cli(name)
    default = "" if info.default in (None, "") else f" (default {info.default})"
    text = cli.help if cli else f"`dialer run --{name.replace('_', '-')}`"
    return f"{text}{default}"


def _form_model() -> type[BaseModel]:
    """Every run option a form takes, optional (a field left out or empty is not given)."""
    fields: dict[str, Any] = {
        name: (
            Optional[RunOptions.model_fields[name].annotation],  # noqa: UP045
            Field(None, description=_describe(name)),
        )
        for name in form_fields()
    }
    return create_model("RunOptionsForm", **fields)


if TYPE_CHECKING:
    RunOptionsForm = BaseModel
else:
    RunOptionsForm = _form_model()


def given(form: BaseModel) -> dict[str, Any]:
    """The run options a form gave (not its own fields, like the file; not those left empty)."""
    values = form.model_dump(include=set(form_fields()))
    return {name: value for name, value in values.items() if value not in (None, "")}


def run_options_given(form: Annotated[RunOptionsForm, Form()]) -> dict[str, Any]:
    """A FastAPI dependency: the run options given in the request's form."""
    return given(form)


def build(values: dict[str, Any], *, webhook_url: str | None) -> RunOptions:
    """The run options: those given, the server's webhook URL unless one was given."""
    if webhook_url and not values.get("webhook_url"):
        values = {**values, "webhook_url": webhook_url}
    return RunOptions.model_validate(values)
