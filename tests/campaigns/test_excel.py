"""Results and rejects files that Excel opens right, and that our readers read back."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from campaigns.excel import CsvStyle
from campaigns.model import RESULT_COLUMNS, Reject, RejectReason
from campaigns.rejects import REJECT_COLUMNS, write_rejects
from campaigns.report_rows import read_results
from campaigns.results import neutralise, write_results
from dialer.store import ContactRecord

COLUMNS = ["Téléphone", "Prénom", "Société"]


def stored(first_name: str, row: int = 1) -> ContactRecord:
    phone = f"+3361234{row:04d}"
    fields = {
        "phone": phone,
        "state": "completed",
        "attempt": "1",
        "sends": "1",
        "row": json.dumps([phone, first_name, "Hôtel; Café"]),
        "duration_seconds": "42",
    }
    return ContactRecord.from_redis(row, fields)


def as_excel_opens(path: Path, list_separator: str) -> list[list[str]]:
    """A CSV as Excel opens it: UTF-8 only with a byte-order mark (else the ANSI code page),
    split on the list separator of its locale."""
    data = path.read_bytes()
    text = data[3:].decode("utf-8") if data.startswith(b"\xef\xbb\xbf") else data.decode("cp1252")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=list_separator))


def test_french_results_open_in_a_french_excel_with_accents(tmp_path: Path) -> None:
    path = tmp_path / "liste.results.csv"
    write_results(path, COLUMNS, [stored("Amélie"), stored("Zoë", 2)], CsvStyle(";"))
    header, first, second = as_excel_opens(path, ";")
    assert header[:3] == COLUMNS and header[3:] == list(RESULT_COLUMNS)
    assert first[:3] == ["+33612340001", "Amélie", "Hôtel; Café"] and second[1] == "Zoë"
    with path.open("rb") as handle:
        outcomes = read_results(handle, name=path.name)
    assert [o.status for o in outcomes] == ["completed", "completed"]
    assert [o.duration for o in outcomes] == [42.0, 42.0]


def test_without_a_mark_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    write_results(path, COLUMNS, [stored("Amélie")], CsvStyle(",", bom=False))
    assert path.read_bytes().startswith("Téléphone,".encode())


def test_a_tab_or_pipe_list_gets_commas() -> None:
    assert CsvStyle("\t").delimiter == CsvStyle("|").delimiter == ","


def test_xlsx_results_are_text_cells_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    assert write_results(path, COLUMNS, [stored("=1+2"), stored("Zoë", 2)]) == 2
    book = load_workbook(path, read_only=True)  # holds the file open until closed
    rows = [[cell.value for cell in row] for row in book["results"].iter_rows()]
    book.close()
    assert rows[0][:3] == COLUMNS
    assert rows[1][:3] == ["+33612340001", "'=1+2", "Hôtel; Café"]
    assert all(isinstance(value, str) for row in rows for value in row if value is not None)
    with path.open("rb") as handle:
        assert len(read_results(handle, name=path.name)) == 2


def test_rejects_keep_the_delimiter_and_start_with_the_mark() -> None:
    out = io.StringIO(newline="")
    reject = Reject(3, "06 12", RejectReason.INVALID_NUMBER, "colonne 'Téléphone'; trop court")
    write_rejects([reject], out, CsvStyle(";"))
    text = out.getvalue()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows == [list(REJECT_COLUMNS), ["3", "06 12", "invalid_number", reject.detail]]


NAMES = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12)


@settings(max_examples=40, deadline=None)
@given(st.lists(NAMES, min_size=1, max_size=5), st.sampled_from([",", ";"]), st.booleans())
def test_the_cells_written_are_the_cells_read(names: list[str], delimiter: str, bom: bool) -> None:
    """Whatever the names, delimiter and mark, Excel's reading and ours give the cells back."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.csv"
        contacts = [stored(name, i) for i, name in enumerate(names, 1)]
        write_results(path, COLUMNS, contacts, CsvStyle(delimiter, bom))
        if bom:
            rows = as_excel_opens(path, delimiter)
            assert [row[1] for row in rows[1:]] == [neutralise(c.cells[1]) for c in contacts]
        with path.open("rb") as handle:
            assert len(read_results(handle, name="r.csv")) == len(contacts)
