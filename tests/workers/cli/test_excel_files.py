"""`dialer run` on a French Excel list: results and rejects that Excel opens right (a byte-order
mark, the list's `;`), or a workbook; `dialer report` and `dialer retry` read them back."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook

from campaigns.model import RESULT_COLUMNS
from dialer.simulator.server import RunningSimulator
from tests.support import campaign_args, cli_env, creates_to, dialer_cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

# As a French Excel saves "CSV UTF-8": a byte-order mark, `;`, CRLF.
LISTE = (
    "\ufeffTéléphone;Prénom;Société\r\n"
    "+33 6 12 34 56 78;Amélie;Hôtel du Lac\r\n"
    "+33 6 12 34 56 79;Zoë;Café; Crème\r\n"  # a ragged row: four cells
    "+33 6 12 34 56 80;Hélène;Brasserie\r\n"
)


def as_excel_opens(path: Path, list_separator: str = ";") -> list[list[str]]:
    """A CSV as Excel opens it: UTF-8 only with a byte-order mark (else the ANSI code page),
    split on its locale's list separator."""
    data = path.read_bytes()
    text = data[3:].decode("utf-8") if data.startswith(b"\xef\xbb\xbf") else data.decode("cp1252")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=list_separator))


def _run(sim: RunningSimulator, tmp: Path, *extra: str):  # type: ignore[no-untyped-def]
    args = campaign_args(
        "run", "liste.csv", "--phone-column", "Téléphone", "--rate", "20/s", *extra
    )
    return dialer_cli(args, cli_env(sim, tmp), cwd=tmp)


def test_french_list_results_open_in_excel_and_are_read_back(
    simulator: RunningSimulator, tmp: Path
) -> None:
    (tmp / "liste.csv").write_text(LISTE, encoding="utf-8", newline="")
    done = _run(simulator, tmp)
    assert done.returncode == 0, done.stdout + done.stderr

    header, *rows = as_excel_opens(tmp / "liste.results.csv")
    assert header[: 3 + len(RESULT_COLUMNS)] == ["Téléphone", "Prénom", "Société", *RESULT_COLUMNS]
    assert [(row[1], row[2]) for row in rows] == [
        ("Amélie", "Hôtel du Lac"),
        ("Hélène", "Brasserie"),
    ]
    rejects = as_excel_opens(tmp / "liste.rejects.csv")
    assert rejects[0] == ["source_row", "phone", "reason", "detail"]
    assert [row[:3] for row in rejects[1:]] == [["3", "+33 6 12 34 56 79", "malformed_row"]]

    report = dialer_cli(["report", "liste.results.csv"], cli_env(simulator, tmp), cwd=tmp)
    assert report.returncode == 0, report.stdout + report.stderr
    assert (tmp / "liste.report.html").is_file()
    assert "Contacts" in report.stdout and "2" in report.stdout

    before = Counter(creates_to(simulator.url))
    statuses = ",".join(sorted({row[header.index("status")] for row in rows}))
    args = campaign_args(
        "retry", "liste.results.csv", "--only", statuses, "--rate", "20/s", "--min-gap", "0"
    )
    again = dialer_cli(args, cli_env(simulator, tmp), cwd=tmp)
    assert again.returncode == 0, again.stdout + again.stderr
    dialled = Counter(creates_to(simulator.url)) - before
    assert dialled == Counter({"+33612345678": 1, "+33612345680": 1})


def test_xlsx_results_and_no_mark_when_asked(simulator: RunningSimulator, tmp: Path) -> None:
    (tmp / "liste.csv").write_text(LISTE, encoding="utf-8", newline="")
    done = _run(simulator, tmp, "--results", "out.xlsx", "--no-bom")
    assert done.returncode == 0, done.stdout + done.stderr
    book = load_workbook(tmp / "out.xlsx", read_only=True)  # holds the file open until closed
    rows = [[cell.value for cell in row] for row in book["results"].iter_rows()]
    book.close()
    assert rows[0][:3] == ["Téléphone", "Prénom", "Société"]
    assert [row[1] for row in rows[1:]] == ["Amélie", "Hélène"]
    assert all(isinstance(v, str) for row in rows for v in row if v is not None)
    assert (tmp / "liste.rejects.csv").read_bytes().startswith(b"source_row;phone;")
    report = dialer_cli(["report", "out.xlsx"], cli_env(simulator, tmp), cwd=tmp)
    assert report.returncode == 0, report.stdout + report.stderr
