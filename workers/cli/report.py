"""`dialer report`: a results file in, one self-contained HTML report and a summary table out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from campaigns.report import Report, summarise, summary_rows
from campaigns.report_html import render
from campaigns.report_rows import read_results
from dialer.errors import InputError
from dialer.private import open_private, private_dir
from workers.cli.app import Out, app
from workers.cli.plain import print_table


def default_output(results: Path) -> Path:
    """`contacts.results.csv` -> `contacts.report.html`, beside it."""
    return results.with_name(f"{results.stem.removesuffix('.results')}.report.html")


def load(results: Path) -> Report:
    """The report for a results file, or an `InputError` naming it."""
    if not results.is_file():
        raise InputError(
            "no such file" if not results.exists() else "not a file", where=str(results)
        )
    with results.open("rb") as handle:
        return summarise(read_results(handle, name=str(results)))


def summary_table(report: Report) -> Table:
    """The headline numbers, the contacts per agent outcome and per status, for the terminal."""
    table = Table(title="Campaign report", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for _key, label, value in summary_rows(report):
        table.add_row(label, value)
    for bucket in report.sales.outcomes:
        share = f"{bucket.count} ({bucket.count / bucket.of:.0%})"
        table.add_row(Text(f"  outcome {bucket.label}"), share)
    for bucket in report.statuses:
        table.add_row(Text(f"  status {bucket.label}"), str(bucket.count))
    return table


@app.command()
def report(
    results: Annotated[Path, typer.Argument(help="A results file from `dialer run` or `export`.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="HTML file to write (default: <name>.report.html)."),
    ] = None,
) -> None:
    """Write an HTML report of a campaign's results and print its summary."""
    data = load(results)
    target = out or default_output(results)
    private_dir(target.parent)
    with open_private(target, "w", encoding="utf-8") as page:
        page.write(render(data, source=results.name))
    console = Out(highlight=False)
    print_table(console, summary_table(data))
    console.print("Report:", Text(str(target), style="bold"))
