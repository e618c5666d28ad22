"""`dialer run`: dial a contacts file, follow every call to its end, write the results."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console

from campaigns.contacts import ContactFile, LoadOptions, open_contacts
from campaigns.model import Contact, Reject
from campaigns.rejects import write_rejects
from dialer.campaign import CampaignConfig, CampaignState
from dialer.errors import ConfigError, InputError
from dialer.settings import Settings, load_settings
from workers import session
from workers.cli import display, options
from workers.cli.app import app
from workers.cli.runopts import RunOptions, run_options, with_run_options

EXIT_ABORTED = 3

console = Console()


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
) -> Iterator[list[Contact]]:
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


def dial(settings: Settings, plan: Plan, *, detach: bool = False, workers: int = 1) -> int:
    """Submit, follow and report one campaign; returns the exit code."""
    cid = plan.config.campaign_id
    with session.open_store(settings, workers=0 if detach else workers) as store:
        rejects: list[Reject] = []
        out = plan.rejects_path.open("w", encoding="utf-8", newline="")
        resumed = session.submit(store, plan.config, stream(plan.contact_file, out, rejects))
        display.loaded(console, plan.source, store.total(cid), rejects, plan.rejects_path)
        if store.total(cid) == 0:
            console.print("[bold red]No valid contact to dial[/]; nothing was dialled.")
            return EXIT_ABORTED
        _announce(store.campaign_state(cid), resumed, cid)
        session.start(store, cid)
        if detach:
            console.print(f"Submitted; `dialer status {cid}` follows it.")
            return 0
        final = display.follow_live(console, store, plan.config, plan.results)
    return _report(final, plan.config, plan.results)


def _announce(state: CampaignState | None, resumed: bool, cid: str) -> None:
    if state is CampaignState.DONE:
        console.print(f"Campaign [bold]{cid}[/] had already finished; writing its results.")
    elif resumed:
        console.print(
            f"Resuming campaign [bold]{cid}[/]: nothing already dialled is dialled again."
        )


def _report(final: session.Progress, config: CampaignConfig, results: Path) -> int:
    display.summary(console, final, results)
    if final.live == 0:
        return 0
    if final.reason:
        console.print(f"[bold red]Stopped:[/] {final.reason}")
    else:
        console.print(f"Campaign {config.campaign_id} was {final.state.value}.")
    return EXIT_ABORTED


def plan(
    settings: Settings, contacts: Path, opts: RunOptions, *, campaign: str | None = None,
    results: Path | None = None, rejects: Path | None = None,
) -> Plan:
    """Everything checked and decided before anything is started or dialled."""
    load_options = opts.load_options()
    contact_file = open_path(contacts, load_options)
    config = opts.campaign(
        settings, campaign or default_campaign_id(contacts),
        columns=tuple(contact_file.columns),
        variable_columns=tuple(contact_file.variable_columns), source=contacts,
    )
    return Plan(
        config, contact_file, contacts, options.rejects_path(contacts, rejects),
        results or contacts.with_name(f"{contacts.stem}.results.csv"),
    )


@app.command()
@with_run_options
def run(
    contacts: Annotated[Path, typer.Argument(help="Contacts file (CSV or .xlsx).")],
    campaign: Annotated[
        str | None,
        typer.Option(help="Campaign id; the same id resumes. Default: file name + content hash."),
    ] = None,
    results: Annotated[
        Path | None, typer.Option(help="Results file (default: <stem>.results.csv beside it).")
    ] = None,
    rejects: options.Rejects = None,
    detach: Annotated[
        bool, typer.Option(help="Submit to DIALER_REDIS_URL's workers and return at once.")
    ] = False,
    workers: Annotated[
        int, typer.Option(help="Worker processes of the embedded stack.", min=1, max=8)
    ] = 1,
    **run: Any,
) -> None:
    """Dial every valid contact once, follow each call to its end, write the results file.

    Calls happen only inside each recipient's local calling window (08:00-21:00 by default);
    contacts outside it wait, and the results say until when.
    """
    opts = run_options(run)
    settings = load_settings()
    settings.require_api_key()
    if detach and not settings.redis_url:
        raise ConfigError("--detach needs DIALER_REDIS_URL and `dialer worker` processes")
    chosen = plan(settings, contacts, opts, campaign=campaign, results=results, rejects=rejects)
    raise typer.Exit(dial(settings, chosen, detach=detach, workers=workers))
