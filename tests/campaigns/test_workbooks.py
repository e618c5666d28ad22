""".xlsx workbooks as people make them (sheets, title rows, dates) and as attackers make them
(zip bombs, entity expansion, broken XML): each hostile one ends in a one-line error."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, TypeVar

import pytest
from openpyxl import Workbook, load_workbook

from campaigns.contacts import LoadOptions, load_contacts
from campaigns.workbook_caps import MAX_CELL_CHARS, check_cells
from campaigns.workbooks import cell_text, check_archive
from dialer.errors import InputError

P = TypeVar("P", Path, IO[bytes])
SHEET_XML = "xl/worksheets/sheet1.xml"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
ROW1 = '<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row>'


# `dialer`'s entry point, reporting its peak memory at exit: VmHWM is this process's own
# (getrusage's maxrss would include the parent's memory, inherited across fork and exec).
_MEASURED = """
import atexit, os, sys
from workers.cli import main
def peak():
    with open("/proc/self/status") as status, open(os.environ["PEAK_FILE"], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM")).split()[1])
atexit.register(peak)
main()
"""


def validate(path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """`dialer validate` as a user runs it; also its peak memory in MiB."""
    peak_file = path.with_suffix(".peak")
    rejects = str(path.with_suffix(".rejects.csv"))
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, "validate", str(path), "--rejects", rejects, *args],
        capture_output=True, text=True, timeout=120, check=False,
        # one line is one line, however Rich would wrap it
        env={**os.environ, "COLUMNS": "400", "PEAK_FILE": str(peak_file)},
    )  # fmt: skip
    return done, int(peak_file.read_text()) // 1024


def workbook(path: P, sheets: Mapping[str, Sequence[Sequence[object]]]) -> P:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def with_sheet_xml(path: Path, write: Callable[[IO[bytes]], None]) -> Path:
    """A valid one-sheet workbook whose sheet XML is written by `write` (streamed, so a
    gigantic one costs this process no memory)."""
    plain = io.BytesIO()
    workbook(plain, {"Contacts": [["phone"], ["+14155550123"]]})
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename == SHEET_XML:
                with out.open(SHEET_XML, "w", force_zip64=True) as sheet:
                    write(sheet)
            else:
                out.writestr(info, source.read(info.filename))
    return path


def test_first_sheet_without_a_phone_column_lists_the_sheets(tmp_path: Path) -> None:
    path = workbook(tmp_path / "export.xlsx", {
        "Summary": [["campaign", "rows"], ["spring", 2]],
        "Q3 leads": [["Name", "Mobile"], ["Ana", "+14155550123"]],
    })  # fmt: skip
    done, _ = validate(path)
    assert done.returncode == 2
    assert "sheet 'Summary' has no phone column" in done.stderr
    assert "['Summary', 'Q3 leads']" in done.stderr
    assert "--sheet 'Q3 leads'" in done.stderr
    chosen, _ = validate(path, "--sheet", "Q3 leads")
    assert chosen.returncode == 0, chosen.stderr
    assert "1 contacts to dial" in chosen.stdout


def test_the_header_is_found_below_title_rows(tmp_path: Path) -> None:
    path = workbook(tmp_path / "titled.xlsx", {"Export": [
        ["Spring campaign: contacts"],
        [],
        ["exported", dt.datetime(2024, 3, 5, 9, 30)],
        ["Name", "Phone", "Signed up", "Last call"],
        ["Ana", "+14155550123", dt.datetime(2024, 3, 5), dt.datetime(2024, 3, 5, 14, 30)],
        ["Bo", "n/a", dt.date(2023, 12, 31), None],
    ]})  # fmt: skip
    with path.open("rb") as source:
        result = load_contacts(source, name=path.name)
    assert result.columns == ("Name", "Phone", "Signed up", "Last call")
    # Rows as Excel numbers them: the title block (its blank row too) and the header counted.
    assert [(c.source_row, c.phone_e164) for c in result.contacts] == [(5, "+14155550123")]
    assert [(r.source_row, r.reason.value) for r in result.rejects] == [(6, "not_a_number")]
    assert result.contacts[0].variables == {
        "Name": "Ana", "Signed up": "2024-03-05", "Last call": "2024-03-05T14:30:00",
    }  # fmt: skip
    done, _ = validate(path)
    assert done.returncode == 1, done.stderr  # a row was rejected: something to fix
    assert "2024-03-05" in done.stdout and "T00:00:00" not in done.stdout


def test_a_reject_names_the_row_excel_shows_title_and_blank_rows_counted(tmp_path: Path) -> None:
    path = workbook(tmp_path / "titled.xlsx", {"Export": [
        ["Q3 leads"], [], ["Name", "Phone"], ["Ana", "+14155550123"], [], [],
        ["Bo", "not a phone"], ["Cy", "+14155550124"],
    ]})  # fmt: skip
    done, _ = validate(path)
    assert done.returncode == 1, done.stderr
    with path.with_suffix(".rejects.csv").open(encoding="utf-8-sig", newline="") as handle:
        (reject,) = csv.DictReader(handle)
    sheet = load_workbook(path)["Export"]
    assert sheet.cell(row=int(reject["source_row"]), column=2).value == "not a phone"
    assert reject["source_row"] == "7"
    with path.open("rb") as source:
        result = load_contacts(source, name=path.name)
    for contact in result.contacts:
        assert sheet.cell(row=contact.source_row, column=2).value == contact.phone_e164


def test_a_named_phone_column_finds_its_header_too(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "t.xlsx", {"S": [["Report"], ["who", "dial me"], ["Ana", "+14155550123"]]}
    )
    with path.open("rb") as source:
        result = load_contacts(source, name="t.xlsx", options=LoadOptions(phone_column="Dial Me"))
    assert [c.phone_e164 for c in result.contacts] == ["+14155550123"]


def test_cell_text() -> None:
    assert cell_text(None) == ""
    assert cell_text(14155550123) == "14155550123"
    assert cell_text(4155550124.0) == "4155550124"
    assert cell_text(1.5) == "1.5"
    assert cell_text(True) == "TRUE"
    assert cell_text(dt.datetime(2024, 3, 5)) == "2024-03-05"
    assert cell_text(dt.date(2024, 3, 5)) == "2024-03-05"
    assert cell_text(dt.datetime(2024, 3, 5, 0, 0, 1)) == "2024-03-05T00:00:01"
    assert cell_text(dt.time(14, 30)) == "14:30:00"


def _bomb(sheet: IO[bytes], mib: int = 256) -> None:
    sheet.write(
        f'<worksheet {NS}><sheetData>{ROW1}<row r="2"><c r="A2" t="inlineStr"><is><t>'.encode()
    )
    chunk = b"A" * (1 << 20)
    for _ in range(mib):
        sheet.write(chunk)
    sheet.write(b"</t></is></c></row></sheetData></worksheet>")


def _laughs(sheet: IO[bytes]) -> None:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    sheet.write(
        f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]><worksheet {NS}><sheetData>'
        f'{ROW1}<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        "</sheetData></worksheet>".encode()
    )


def _external(sheet: IO[bytes]) -> None:
    sheet.write(
        f'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f'<worksheet {NS}><sheetData>{ROW1}<row r="2"><c r="A2" t="inlineStr"><is><t>&x;</t>'
        "</is></c></row></sheetData></worksheet>".encode()
    )


def _truncated(sheet: IO[bytes]) -> None:
    sheet.write(f'<worksheet {NS}><sheetData>{ROW1}<row r="2"><c r="A2"'.encode())


def _broken_mid_sheet(sheet: IO[bytes]) -> None:
    # With its dimension given, openpyxl opens the sheet without reading it: the error comes
    # while the rows stream.
    sheet.write(
        f'<worksheet {NS}><dimension ref="A1:A3"/><sheetData>{ROW1}<row r="2"><c r="A2" '
        't="inlineStr"><is><t>+14155550123</t></is></c></row><row r="3"><c r="A3"'.encode()
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_bomb, "refused as a possible zip bomb: xl/worksheets/sheet1.xml is compressed"),
        (_laughs, "its XML declares entities, which no workbook needs"),
        (_external, "its XML declares entities, which no workbook needs"),
        (_truncated, "not a readable .xlsx workbook (unclosed token"),
        (_broken_mid_sheet, "sheet 'Contacts': cannot read the workbook (unclosed token"),
    ],
    ids=["zip-bomb", "billion-laughs", "external-entity", "truncated", "broken-mid-sheet"],
)
def test_hostile_workbooks_end_in_one_line(
    tmp_path: Path, make: Callable[[IO[bytes]], None], message: str
) -> None:
    path = with_sheet_xml(tmp_path / "hostile.xlsx", make)
    assert path.stat().st_size < 1024 * 1024
    done, peak_mib = validate(path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"error: {path}")
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert peak_mib < 200  # a 256 MiB cell is never unpacked


def test_archive_limits_apply_to_each_entry(tmp_path: Path) -> None:
    path = with_sheet_xml(tmp_path / "b.xlsx", lambda sheet: _bomb(sheet, mib=8))
    with path.open("rb") as source, pytest.raises(InputError, match=r"b\.xlsx: refused"):
        check_archive(source, "b.xlsx")
    honest = workbook(
        tmp_path / "h.xlsx", {"S": [["phone"]] + [[f"+1415555{i:04d}"] for i in range(3000)]}
    )
    with honest.open("rb") as source:
        check_archive(source, "h.xlsx")
        assert source.tell() == 0


def _huge_cell(sheet: IO[bytes], mib: int = 300) -> None:
    """One cell of `mib` MiB that deflates about 70 to 1: inside the zip-bomb limits."""
    sheet.write(
        f'<worksheet {NS}><sheetData>{ROW1}<row r="2"><c r="A2" t="inlineStr"><is><t>'.encode()
    )
    letters = b"BCDEFGHIJKLMNOPQRSTUVWXYZ"
    seed = int.from_bytes(os.urandom(4), "big")
    block = bytearray()
    while len(block) < 1 << 20:
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        block += b"A" * (seed % 200 + 20) + letters[seed % 25 : seed % 25 + 1]
    for _ in range(mib):
        sheet.write(bytes(block[: 1 << 20]))
    sheet.write(b"</t></is></c></row></sheetData></worksheet>")


def test_a_300_mib_cell_within_the_zip_limits_is_refused_in_bounded_memory(
    tmp_path: Path,
) -> None:
    path = with_sheet_xml(tmp_path / "cell.xlsx", _huge_cell)
    with zipfile.ZipFile(path) as archive:
        entry = archive.getinfo(SHEET_XML)
    assert entry.file_size / entry.compress_size < 100  # the zip-bomb check lets it through
    done, peak_mib = validate(path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "a cell (row 2) is longer than 32,767 characters" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert peak_mib < 200, f"dialer validate peaked at {peak_mib} MiB"


def test_an_oversized_cell_is_named_by_its_excel_row(tmp_path: Path) -> None:
    def sheet(out: IO[bytes]) -> None:  # rows 2 to 6 blank: not in the XML at all
        cell = "x" * (MAX_CELL_CHARS + 1)
        row = f'<row r="7"><c r="A7" t="inlineStr"><is><t>{cell}</t></is></c></row>'
        out.write(f"<worksheet {NS}><sheetData>{ROW1}{row}</sheetData></worksheet>".encode())

    path = with_sheet_xml(tmp_path / "gap.xlsx", sheet)
    with path.open("rb") as source, pytest.raises(InputError, match=r"a cell \(row 7\) is"):
        check_cells(source, "gap.xlsx")


def test_cells_up_to_excels_limit_are_read(tmp_path: Path) -> None:
    longest = "x" * MAX_CELL_CHARS
    path = workbook(tmp_path / "ok.xlsx", {"S": [["phone", "note"], ["+14155550123", longest]]})
    with path.open("rb") as source:
        check_cells(source, "ok.xlsx")
        assert source.tell() == 0
    over = with_sheet_xml(tmp_path / "no.xlsx", lambda sheet: _huge_cell(sheet, mib=1))
    with (
        over.open("rb") as source,
        pytest.raises(InputError, match=r"sheet1\.xml: a cell \(row 2\)"),
    ):
        check_cells(source, "no.xlsx")
