"""The options of a campaign run, declared once and shared by `run`, `retry`, `check` and
`schedule add` (which stores them, to use when the job fires)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ConfigDict

from campaigns.contacts import LoadOptions
from dialer.campaign import CampaignConfig, check_campaign_id, parse_rate
from dialer.errors import ConfigError
from dialer.settings import Settings
from workers.cli import options

F = TypeVar("F", bound=Callable[..., Any])


class RunOptions(BaseModel):
    """Every option of a campaign run, as plain values (so a schedule can store them)."""

    model_config = ConfigDict(frozen=True)

    agent_id: str | None = None
    from_number: str | None = None
    rate: str = "1/s"
    max_concurrent: int = 10
    webhook_url: str | None = None
    phone_column: str | None = None
    default_region: str = "US"
    dnc: str | None = None
    variables: str | None = None
    allow_types: str | None = None
    sheet: str | None = None
    window: str = "08:00-21:00"
    days: str = "mon-sun"
    rules: str | None = None
    start_at: str | None = None
    deadline: str | None = None
    tz: str | None = None
    max_attempts: int = 1
    retry_on: str = "no_answer,failed"
    retry_delay: str = "30m"

    def load_options(self) -> LoadOptions:
        """How to read the contacts file."""
        return options.build_load_options(
            phone_column=self.phone_column, default_region=self.default_region,
            dnc=Path(self.dnc) if self.dnc else None, variables=self.variables,
            allow_types=self.allow_types, sheet=self.sheet,
        )

    def times(self) -> dict[str, Any]:
        """The calling-time settings, checked and normalised."""
        return options.calling_times(
            window=self.window, days=self.days, rules=self.rules, start_at=self.start_at,
            deadline=self.deadline, tz=self.tz, max_attempts=self.max_attempts,
            retry_on=self.retry_on, retry_delay=self.retry_delay,
        )

    def campaign(
        self, settings: Settings, cid: str, *, columns: tuple[str, ...],
        variable_columns: tuple[str, ...], source: Path, results_path: str = "",
    ) -> CampaignConfig:
        """The campaign's settings (agent and from-number: flag > environment)."""
        agent_id = self.agent_id or settings.agent_id
        from_number = self.from_number or settings.from_number
        if not agent_id:
            raise ConfigError("no agent: give --agent-id, or set DIALER_AGENT_ID")
        if not from_number:
            raise ConfigError("no from-number: give --from-number, or set DIALER_FROM_NUMBER")
        return CampaignConfig(
            campaign_id=check_campaign_id(cid), agent_id=agent_id, from_number=from_number,
            rate_per_s=parse_rate(self.rate), max_concurrent=self.max_concurrent,
            webhook_url=self.webhook_url, columns=columns, variable_columns=variable_columns,
            source=str(source), results_path=results_path, **self.times(),
        )


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


def with_run_options(command: F) -> F:
    """Give a command (which takes `**run`) every run option, declared once above."""
    own = [
        p for p in inspect.signature(command, eval_str=True).parameters.values()
        if p.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    signature = inspect.Signature([*own, *_PARAMETERS])
    command.__signature__ = signature  # type: ignore[attr-defined]
    return command


def run_options(values: dict[str, Any]) -> RunOptions:
    """The run options among a command's keyword arguments."""
    picked = {k: v for k, v in values.items() if k in _NAMES}
    if picked.get("dnc") is not None:
        picked["dnc"] = str(Path(picked["dnc"]).resolve())
    return RunOptions(**picked)
