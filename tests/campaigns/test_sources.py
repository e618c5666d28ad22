"""Recognising a table: encodings, delimiters, workbooks and files that are not tables."""

from __future__ import annotations

import io

import pytest

from campaigns.sources import open_table, sniff_delimiter
from campaigns.workbooks import cell_text
from dialer.errors import InputError


@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\n1\t2\n", "\t"),
        ("a|b\n1|2\n", "|"),
        ('name;company\n"Doe, Jane";"Acme, Inc"\n', ";"),
        ("phone\n4155550123\n", ","),
    ],
)
def test_sniff_delimiter(sample: str, delimiter: str) -> None:
    assert sniff_delimiter(sample) == delimiter


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("phone,name\n1,Zoë\n".encode(), "utf-8"),
        ("\ufeffphone,name\n1,Zoë\n".encode(), "utf-8-sig"),
        ("phone,name\n1,Zoë\n".encode("utf-16"), "utf-16"),
        ("phone,name\n1,Zoë – “x”\n".encode("cp1252"), "cp1252"),
    ],
)
def test_encodings_are_detected_never_mojibake(data: bytes, encoding: str) -> None:
    table = open_table(io.BytesIO(data), name="x.csv")
    assert table.encoding == encoding
    assert table.header == ["phone", "name"]
    assert next(table.rows)[1].startswith("Zoë")
    table.rows.close()


def test_the_callers_file_stays_open() -> None:
    source = io.BytesIO(b"phone\r\n1\r\n")
    table = open_table(source, name="x.csv")
    assert list(table.rows) == [["1"]]
    assert not source.closed


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "x.csv: the file is empty"),
        (b"%PDF-1.4\n", "PDF document"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy .xls"),
        (b"PK\x03\x04garbage", "not a readable .xlsx workbook"),
        (b"\x00\x01\x02phone", "binary file"),
        (b"\n\n", "no header row"),
    ],
)
def test_files_that_are_not_tables(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        open_table(io.BytesIO(data), name="x.csv")


def test_cell_text() -> None:
    assert cell_text(None) == ""
    assert cell_text(14155550123) == "14155550123"
    assert cell_text(4155550124.0) == "4155550124"
    assert cell_text(1.5) == "1.5"
    assert cell_text(True) == "TRUE"
