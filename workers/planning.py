"""Deciding a campaign run before anything starts: its options, its contacts file, its
settings. Shared by `dialer run`, `retry`, `check`, `demo` and scheduled jobs (which store a
run's options and apply them when the job fires)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ConfigDict

from campaigns.contacts import ContactFile, LoadOptions, open_contacts, parse_list
from campaigns.dnc import load_dnc
from campaigns.model import Contact, Reject
from campaigns.rejects import write_rejects
from campaigns.retry import RetryPolicy, parse_delays, parse_retry_on
from campaigns.state_rules import load_rules
from campaigns.windows import parse_start_at, parse_window
from dialer.campaign import CampaignConfig, check_campaign_id, parse_rate
from dialer.errors import ConfigError, InputError, InvalidNumber
from dialer.phone import normalize
from dialer.settings import Settings


def build_load_options(
    *,
    phone_column: str | None,
    default_region: str,
    dnc: Path | None,
    variables: str | None,
    allow_types: str | None,
    sheet: str | None,
) -> LoadOptions:
    """LoadOptions from the command line, reading the do-not-call file if one is given."""
    numbers: frozenset[str] = frozenset()
    if dnc is not None:
        if not dnc.is_file():
            raise InputError("no such file", where=str(dnc))
        with dnc.open("rb") as handle:
            numbers = load_dnc(handle, name=str(dnc), default_region=default_region.upper())
    return LoadOptions(
        phone_column=phone_column,
        default_region=default_region.upper(),
        variables=parse_list(variables),
        allow_types=frozenset(types) if (types := parse_list(allow_types)) else None,
        dnc=numbers,
        sheet=sheet,
    )


def rejects_path(contacts: Path, given: Path | None) -> Path:
    """Where the rejects file goes."""
    return given or contacts.with_name(f"{contacts.stem}.rejects.csv")


def calling_times(
    *,
    window: str,
    days: str,
    rules: str | None,
    start_at: str | None,
    deadline: str | None,
    tz: str | None,
    max_attempts: int,
    retry_on: str,
    retry_delay: str,
) -> dict[str, Any]:
    """The campaign's calling-time settings, checked now and normalised (instants in UTC)."""
    now = datetime.now(UTC)
    parse_window(window, days)
    if rules:
        load_rules(rules)
    RetryPolicy(max_attempts, parse_retry_on(retry_on), parse_delays(retry_delay))
    start = parse_start_at(start_at, tz, now) if start_at else None
    end = parse_start_at(deadline, tz, now) if deadline else None
    if start and end and end <= start:
        raise ConfigError("--deadline must be after --start-at")
    return {
        "window": window.strip(),
        "days": days.strip(),
        "rules": rules or "",
        "start_at": start.isoformat() if start else "",
        "deadline": end.isoformat() if end else "",
        "max_attempts": max_attempts,
        "retry_on": retry_on,
        "retry_delays": retry_delay,
    }


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
        return build_load_options(
            phone_column=self.phone_column,
            default_region=self.default_region,
            dnc=Path(self.dnc) if self.dnc else None,
            variables=self.variables,
            allow_types=self.allow_types,
            sheet=self.sheet,
        )

    def times(self) -> dict[str, Any]:
        """The calling-time settings, checked and normalised."""
        return calling_times(
            window=self.window,
            days=self.days,
            rules=self.rules,
            start_at=self.start_at,
            deadline=self.deadline,
            tz=self.tz,
            max_attempts=self.max_attempts,
            retry_on=self.retry_on,
            retry_delay=self.retry_delay,
        )

    def campaign(
        self,
        settings: Settings,
        cid: str,
        *,
        columns: tuple[str, ...],
        variable_columns: tuple[str, ...],
        source: Path,
        results_path: str = "",
    ) -> CampaignConfig:
        """The campaign's settings (agent and from-number: flag > environment)."""
        agent_id = self.agent_id or settings.agent_id
        from_number = self.from_number or settings.from_number
        if not agent_id:
            raise ConfigError("no agent: give --agent-id, or set DIALER_AGENT_ID")
        if not from_number:
            raise ConfigError("no from-number: give --from-number, or set DIALER_FROM_NUMBER")
        try:
            from_number = normalize(from_number, self.default_region)
        except InvalidNumber as exc:
            raise ConfigError(
                f"--from-number {from_number!r}: {exc} (write it in E.164, like +14155551234)"
            ) from exc
        return CampaignConfig(
            campaign_id=check_campaign_id(cid),
            agent_id=agent_id,
            from_number=from_number,
            rate_per_s=parse_rate(self.rate),
            max_concurrent=self.max_concurrent,
            webhook_url=self.webhook_url,
            columns=columns,
            variable_columns=variable_columns,
            source=str(source),
            results_path=results_path,
            **self.times(),
        )


def default_campaign_id(path: Path) -> str:
    """`<stem>-<8 hex of the file's SHA-256>`: the same file resumes the same campaign."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    stem = "".join(c if c.isalnum() or c in "._-" else "-" for c in path.stem)[:40] or "contacts"
    return f"{stem}-{digest.hexdigest()[:8]}"


def open_path(path: Path, options: LoadOptions) -> ContactFile:
    """Open a contacts file by path, with a clear message when it cannot be opened."""
    if not path.is_file():
        raise InputError("no such file", where=str(path))
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", where=str(path)) from exc
    return open_contacts(handle, name=str(path), options=options)


def stream(
    contact_file: ContactFile, rejects_out: TextIO, rejects: list[Reject]
) -> Iterator[Sequence[Contact]]:
    """The file's contacts in batches; rejects are written (and kept) as they are found."""
    for good, bad in contact_file.batches():
        rejects.extend(bad)
        yield good
    with rejects_out:
        write_rejects(rejects, rejects_out)


@dataclass
class Plan:
    """Everything one `dialer run` needs, decided before anything starts."""

    config: CampaignConfig
    contact_file: ContactFile
    source: Path
    rejects_path: Path
    results: Path
    load_options: LoadOptions


def plan(
    settings: Settings,
    contacts: Path,
    opts: RunOptions,
    *,
    campaign: str | None = None,
    results: Path | None = None,
    rejects: Path | None = None,
) -> Plan:
    """Everything checked and decided before anything is started or dialled."""
    load_options = opts.load_options()
    contact_file = open_path(contacts, load_options)
    config = opts.campaign(
        settings,
        campaign or default_campaign_id(contacts),
        columns=tuple(contact_file.columns),
        variable_columns=tuple(contact_file.variable_columns),
        source=contacts,
    )
    return Plan(
        config,
        contact_file,
        contacts,
        rejects_path(contacts, rejects),
        results or contacts.with_name(f"{contacts.stem}.results.csv"),
        load_options,
    )
