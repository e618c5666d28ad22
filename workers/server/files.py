"""A campaign's files: results.csv (the file `dialer run` writes), results.xlsx (every cell
text, so a spreadsheet runs nothing as a formula), the HTML report, and rejects.csv (the rows
of its list that were not dialled, written as the list loaded)."""

from __future__ import annotations

from pathlib import Path

from campaigns import watch
from campaigns.excel import text_cell
from campaigns.report import Report, summarise
from campaigns.report_html import render
from campaigns.report_rows import read_results
from campaigns.sources import open_table
from workers.server.context import Server
from workers.server.inspection import RejectSample

__all__ = (
    "rejects",
    "rejects_csv",
    "report",
    "report_html",
    "results_csv",
    "results_xlsx",
    "text_cell",
)


def results_csv(server: Server, cid: str) -> Path:
    """The campaign's results file, written now (complete or not)."""
    path = server.files(cid) / "results.csv"
    watch.export(server.store, cid, path)
    return path


def results_xlsx(server: Server, cid: str) -> Path:
    """The results as a workbook whose every cell is a text cell, written now."""
    path = server.files(cid) / "results.xlsx"
    watch.export(server.store, cid, path)
    return path


def report(server: Server, cid: str) -> Report:
    """The campaign's report, from its results now (read as the loader reads a list)."""
    source = results_csv(server, cid)
    with source.open("rb") as handle:
        return summarise(read_results(handle, name=source.name))


def report_html(server: Server, cid: str) -> str:
    """The campaign's self-contained HTML report, from its results now."""
    return render(report(server, cid), source=f"{cid} results.csv")


def rejects_csv(server: Server, cid: str) -> Path | None:
    """The campaign's rejects file, as its list's last load wrote it (None before any)."""
    path = server.files(cid) / "rejects.csv"
    return path if path.is_file() else None


def rejects(server: Server, cid: str) -> list[RejectSample]:
    """The rows of the campaign's list that were not dialled (read as the loader reads a list:
    its byte-order mark and delimiter whatever they are)."""
    path = rejects_csv(server, cid)
    if path is None:
        return []
    with path.open("rb") as handle:
        table = open_table(handle, name=path.name)
        found = [dict(zip(table.header, row, strict=False)) for row in table.rows]
    return [
        RejectSample(source_row=int(row["source_row"]), phone=row["phone"],
                     reason=row["reason"], detail=row["detail"])
        for row in found
    ]  # fmt: skip
