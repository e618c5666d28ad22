"""The run options (`dialer.run_options.RunOptions`) as command-line flags.

A command that takes them is registered with `cls=run_options_command()`: one Typer option
object per field of the model (its flag, type, help, panel, default) is added to the command,
and when it runs, their values are taken out of its parameters as one `RunOptions`, which the
command reads with `run_options(ctx)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import UnionType
from typing import Any, ClassVar, Union, get_args, get_origin

import typer
from annotated_types import Ge
from pydantic.fields import FieldInfo
from typer._coercion import resolve_type_descriptor  # how Typer types a parameter
from typer.core import TyperCommand, TyperOption

from dialer.run_options import CONTACTS, Cli, RunOptions

_KEY = "dialer.run_options"
_GIVEN = "dialer.run_options.given"


def _cli(field: FieldInfo) -> Cli:
    return next(m for m in field.metadata if isinstance(m, Cli))


ALL = tuple(RunOptions.model_fields)
CONTACT_OPTIONS = tuple(n for n, f in RunOptions.model_fields.items() if _cli(f).panel == CONTACTS)


def _option(name: str, field: FieldInfo) -> TyperOption:
    """The command-line option of one field: `--name-with-dashes`, its type (a path when
    `Cli(path=True)`; repeatable when a list), help line, panel, default and minimum."""
    cli = _cli(field)
    minimum = next(
        (m.ge for m in field.metadata if isinstance(m, Ge) and isinstance(m.ge, int)), None
    )
    kind: Any = Path if cli.path else _given(field.annotation)
    info = typer.Option(help=cli.help, rich_help_panel=cli.panel, min=minimum, metavar=cli.metavar)
    flag = f"--{name.replace('_', '-')}"
    if kind is bool:  # a switch: --bom / --no-bom
        flag = f"{flag}/--no-{name.replace('_', '-')}"
    return TyperOption(
        param_decls=[name, flag],
        is_flag=True if kind is bool else None,
        type_descriptor=resolve_type_descriptor(annotation=kind, parameter_info=info),
        default=field.default,
        multiple=get_origin(kind) is list,
        show_default=True,
        show_envvar=True,
        help=cli.help,
        rich_help_panel=cli.panel,
        min=minimum,
        metavar=cli.metavar,
    )


def _given(annotation: Any) -> Any:
    """`X | None` is `X` on the command line (an option left out is None)."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    return (
        args[0] if get_origin(annotation) in (Union, UnionType) and len(args) == 1 else annotation
    )


def _typer_options(names: Iterable[str]) -> list[TyperOption]:
    """The options of these fields, in the model's order."""
    fields = RunOptions.model_fields
    return [_option(name, fields[name]) for name in names]


class _RunOptionsCommand(TyperCommand):
    """A command with the run options `names` added to its own."""

    names: ClassVar[tuple[str, ...]] = ALL

    def __init__(self, name: str | None, **settings: Any) -> None:
        own = settings.get("params") or []
        grouped = [p for p in own if getattr(p, "rich_help_panel", None)]  # listed last
        rest = [p for p in own if p not in grouped]
        settings["params"] = [*rest, *_typer_options(self.names), *grouped]
        super().__init__(name, **settings)

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """The options in sections by their panel (the command's own first), each wrapped to
        the width."""
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                title = "Arguments" if param.param_type_name == "argument" else "Options"
                panel = getattr(param, "rich_help_panel", None) or title
                sections.setdefault(panel, []).append(record)
        for name, records in sections.items():
            with formatter.section(name):
                formatter.write_dl(records)

    def invoke(self, ctx: Any) -> Any:  # a typer.Context (its base class is Typer's own click)
        """Take the run options out of the parameters, as one RunOptions for the command."""
        ctx.meta[_GIVEN] = frozenset(
            name
            for name in self.names
            if getattr(ctx.get_parameter_source(name), "name", "DEFAULT")
            not in ("DEFAULT", "DEFAULT_MAP")
        )
        given = {name: ctx.params.pop(name) for name in self.names}
        ctx.meta[_KEY] = RunOptions(
            **{k: str(v) if isinstance(v, Path) else v for k, v in given.items()}
        )
        return super().invoke(ctx)


def run_options_command(
    *, exclude: frozenset[str] = frozenset(), only: tuple[str, ...] = ALL
) -> type[TyperCommand]:
    """The command class that gives a command the run options `only`, but `exclude`."""
    chosen = tuple(name for name in only if name not in exclude)
    unknown = set(chosen) - set(ALL)
    if unknown:
        raise ValueError(f"not run options: {sorted(unknown)}")
    return type("RunOptionsCommand", (_RunOptionsCommand,), {"names": chosen})


def run_options(ctx: typer.Context) -> RunOptions:
    """The run options given to the command running in `ctx`."""
    found = ctx.meta[_KEY]
    assert isinstance(found, RunOptions)
    return found


def given_options(ctx: typer.Context) -> frozenset[str]:
    """The run options the user gave to the command running in `ctx` (not left at default)."""
    found = ctx.meta.get(_GIVEN, frozenset())
    assert isinstance(found, frozenset)
    return found
