"""A campaign's files: results.csv (the file `dialer run` writes), results.xlsx (every cell
text, so a spreadsheet runs nothing as a formula) and the HTML report."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from campaigns import watch
from campaigns.report import Report, summarise
from campaigns.report_html import render
from campaigns.report_rows import read_results
from workers.server.context import Server


def results_csv(server: Server, cid: str) -> Path:
    """The campaign's results file, written now (complete or not)."""
    path = server.files(cid) / "results.csv"
    watch.export(server.store, cid, path)
    return path


def results_xlsx(server: Server, cid: str) -> Path:
    """The results as a workbook whose every cell is a text cell."""
    source = results_csv(server, cid)
    target = source.with_suffix(".xlsx")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("results")
    with source.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append([text_cell(sheet, value) for value in row])
    fd, tmp = tempfile.mkstemp(prefix=".results.", suffix=".xlsx", dir=target.parent)
    os.close(fd)
    workbook.save(tmp)
    os.replace(tmp, target)
    return target


def text_cell(sheet: object, value: str) -> WriteOnlyCell:
    """A workbook cell holding `value` as text."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # never a formula or a number, whatever the text looks like
    return cell


def report(server: Server, cid: str) -> Report:
    """The campaign's report, from its results now."""
    source = results_csv(server, cid)
    with source.open(encoding="utf-8", newline="") as handle:
        return summarise(read_results(handle, name=source.name))


def report_html(server: Server, cid: str) -> str:
    """The campaign's self-contained HTML report, from its results now."""
    return render(report(server, cid), source=f"{cid} results.csv")
