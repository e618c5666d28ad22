"""Deciding a campaign run before anything starts: its options, its contacts file, its
settings. Shared by `dialer run`, `retry`, `check`, `demo` and scheduled jobs (which store a
run's options and apply them when the job fires)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from campaigns.contacts import ContactFile, LoadOptions, open_contacts, parse_list, parse_types
from campaigns.dnc import load_dnc
from campaigns.excel import CsvStyle
from campaigns.model import Contact, Reject
from campaigns.rejects import write_rejects
from campaigns.renames import parse_renames, stored
from campaigns.retry import RetryPolicy, parse_delays, parse_duration, parse_retry_on
from campaigns.state_rules import load_rules
from campaigns.windows import parse_start_at, parse_window
from dialer.campaign import CampaignConfig, check_campaign_id, parse_rate
from dialer.errors import ConfigError, InputError, InvalidNumber
from dialer.phone import normalize
from dialer.run_options import RunOptions, parse_failure_guard
from dialer.settings import Settings


def load_options(opts: RunOptions) -> LoadOptions:
    """How to read the contacts file, reading the do-not-call file if one is given."""
    region = opts.default_region.upper()
    numbers: frozenset[str] = frozenset()
    if opts.dnc is not None:
        dnc = Path(opts.dnc)
        if not dnc.is_file():
            raise InputError("no such file", where=str(dnc))
        with dnc.open("rb") as handle:
            numbers = load_dnc(handle, name=str(dnc), default_region=region)
    return LoadOptions(
        phone_column=opts.phone_column,
        default_region=region,
        variables=parse_list(opts.variables),
        allow_types=parse_types(opts.allow_types),
        dnc=numbers,
        sheet=opts.sheet,
        country_column=_none_or(opts.country_column),
        fallback_columns=_none_or_list(opts.fallback_columns),
        renames=parse_renames(opts.rename),
    )


def _none_or(text: str | None) -> str | None:
    """An option's value; "none" as "" (chosen: no such column), None when not given."""
    return "" if text is not None and text.strip().lower() == "none" else text


def _none_or_list(text: str | None) -> tuple[str, ...] | None:
    return () if _none_or(text) == "" else parse_list(text)


def rejects_path(contacts: Path, given: Path | None) -> Path:
    """Where the rejects file goes."""
    return given or contacts.with_name(f"{contacts.stem}.rejects.csv")


def calling_times(opts: RunOptions) -> dict[str, Any]:
    """The campaign's calling-time settings, checked now and normalised (instants in UTC)."""
    now = datetime.now(UTC)
    parse_window(opts.window, opts.days)
    if opts.rules:
        load_rules(opts.rules)
    RetryPolicy(opts.max_attempts, parse_retry_on(opts.retry_on), parse_delays(opts.retry_delay))
    start = parse_start_at(opts.start_at, opts.tz, now) if opts.start_at else None
    end = parse_start_at(opts.deadline, opts.tz, now, "--deadline") if opts.deadline else None
    if start and end and end <= start:
        raise ConfigError("--deadline must be after --start-at", field="deadline")
    if end and end <= now:
        raise ConfigError(
            f"--deadline {opts.deadline} has passed ({end:%Y-%m-%d %H:%M} UTC): "
            "every contact would expire; give a later one",
            field="deadline",
        )
    return {
        "window": opts.window.strip(),
        "days": opts.days.strip(),
        "rules": opts.rules or "",
        "start_at": start.isoformat() if start else "",
        "deadline": end.isoformat() if end else "",
        "max_attempts": opts.max_attempts,
        "retry_on": opts.retry_on,
        "retry_delays": opts.retry_delay,
        "min_gap_s": min_gap_s(opts.min_gap),
    }


def min_gap_s(text: str) -> float:
    """`--min-gap` in seconds: a duration of at most 24 hours (the ledger's memory), or 0."""
    if text.strip() in ("0", "0s", "0m", "off"):
        return 0.0
    gap = parse_duration(text, "--min-gap").total_seconds()
    if gap > 24 * 3600:
        raise ConfigError(
            f"--min-gap: {text.strip()!r} is longer than 24h, the most it can be", field="min_gap"
        )
    return gap


def campaign_config(
    opts: RunOptions,
    settings: Settings,
    cid: str,
    *,
    columns: tuple[str, ...],
    variable_columns: tuple[str, ...],
    source: Path,
    delimiter: str = ",",
) -> CampaignConfig:
    """The campaign's settings (agent and from-number: flag > environment)."""
    agent_id = opts.agent_id or settings.agent_id
    from_number = opts.from_number or settings.from_number
    if not agent_id:
        raise ConfigError("no agent: give --agent-id, or set DIALER_AGENT_ID", field="agent_id")
    if not from_number:
        raise ConfigError(
            "no from-number: give --from-number, or set DIALER_FROM_NUMBER", field="from_number"
        )
    try:
        from_number = normalize(from_number, opts.default_region)
    except InvalidNumber as exc:
        raise ConfigError(
            f"--from-number {from_number!r}: {exc} (write it in E.164, like +14155551234)",
            field="from_number",
        ) from exc
    return CampaignConfig(
        campaign_id=check_campaign_id(cid),
        agent_id=agent_id,
        from_number=from_number,
        rate_per_s=parse_rate(opts.rate),
        max_concurrent=opts.max_concurrent,
        account=settings.account_name(),
        opt_out_outcomes=tuple(opts.opt_out_outcome or ()),
        max_cost_cents=_max_cost_cents(opts.max_cost),
        pause_on_failures=_failure_guard(opts.pause_on_failures),
        webhook_url=opts.webhook_url,
        events_url=opts.events_url,
        columns=columns,
        variable_columns=variable_columns,
        renames=stored(variable_columns, parse_renames(opts.rename)),
        source=str(source.resolve()),
        delimiter=delimiter,
        results_bom=opts.bom,
        **calling_times(opts),
    )


def _max_cost_cents(usd: float | None) -> float | None:
    if usd is None:
        return None
    if not usd > 0:
        raise ConfigError(f"--max-cost {usd:g}: give a spend cap in USD above 0, like 25")
    return round(usd * 100, 2)


def _failure_guard(text: str) -> str:
    try:
        parse_failure_guard(text)
    except ValueError as exc:
        raise ConfigError(f"--pause-on-failures {exc}") from exc
    return text.strip().lower()


def default_campaign_id(path: Path, name: str | None = None) -> str:
    """`<stem>-<8 hex of the SHA-256 of the file's resolved path>`: the same file is the same
    campaign however it is edited (its contacts are matched by number when it is run again).

    `name` gives the stem when the file's own name should not (an upload's list name).
    """
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()
    given = Path(name).stem if name else path.stem
    stem = "".join(c if c.isalnum() or c in "._-" else "-" for c in given)[:40] or "contacts"
    return f"{stem}-{digest[:8]}"


def open_path(path: Path, options: LoadOptions) -> ContactFile:
    """Open a contacts file by path, with a clear message when it cannot be opened."""
    if path.is_dir():
        raise InputError("is a folder, not a contacts file", where=str(path))
    if not path.is_file():
        raise InputError("no such file", where=str(path))
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", where=str(path)) from exc
    return open_contacts(handle, name=str(path), options=options)


def stream(
    contact_file: ContactFile,
    rejects_out: TextIO,
    rejects: list[Reject],
    *,
    refuse: Callable[[Contact], Reject | None] = lambda contact: None,
    bom: bool = True,
) -> Iterator[Sequence[Contact]]:
    """The file's contacts in batches; rejects are kept as they are found and written at the
    end in row order, with the file's delimiter (and a byte-order mark unless `bom` is False).
    `refuse` rejects a valid contact (its agent or from-number is unknown)."""
    for good, bad in contact_file.batches():
        rejects.extend(bad)
        kept = []
        for contact in good:
            refused = refuse(contact)
            if refused is None:
                kept.append(contact)
            else:
                rejects.append(refused)
        yield kept
    rejects.sort(key=lambda reject: reject.source_row)
    with rejects_out:
        write_rejects(rejects, rejects_out, CsvStyle(contact_file.delimiter, bom))


@dataclass
class RunPlan:
    """Everything one campaign run needs, decided before anything starts."""

    config: CampaignConfig
    contact_file: ContactFile
    source: Path
    rejects_path: Path
    results: Path
    load_options: LoadOptions
    named: bool = False  # the campaign id was given (not derived from the list)
    given: frozenset[str] = frozenset()  # the run options given, to apply to a resumed campaign
    identified: bool = False  # `config` has its list's campaign id (lifecycle.identify)


def plan_run(
    settings: Settings,
    contacts: Path,
    opts: RunOptions,
    *,
    campaign: str | None = None,
    results: Path | None = None,
    rejects: Path | None = None,
    given: frozenset[str] = frozenset(),
) -> RunPlan:
    """Everything checked and decided before anything is started or dialled.

    `given` names the run options the user gave: a resumed campaign takes those.
    """
    reading = load_options(opts)
    contact_file = open_path(contacts, reading)
    config = campaign_config(
        opts,
        settings,
        campaign or default_campaign_id(contacts),
        columns=tuple(contact_file.columns),
        variable_columns=tuple(contact_file.variable_columns),
        source=contacts,
        delimiter=contact_file.delimiter,
    )
    return RunPlan(
        config,
        contact_file,
        contacts,
        rejects_path(contacts, rejects),
        results or contacts.with_name(f"{contacts.stem}.results.csv"),
        reading,
        named=campaign is not None,
        given=given,
    )
