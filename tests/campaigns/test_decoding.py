"""Files as people have them: UTF-8 with a stray Windows-1252 row, or not UTF-8 at all."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigns.contacts import load_contacts, open_contacts
from campaigns.decoding import describe_rows, fallback_text
from campaigns.sources import open_table
from workers.cli import commands  # noqa: F401  (registers the commands)
from workers.cli.app import app

runner = CliRunner()
CYRILLIC = [("Иван Петров", "Москва"), ("Мария Смирнова", "Санкт-Петербург"),
            ("Ольга Кузнецова", "Новосибирск")]  # fmt: skip


def mostly_utf8() -> bytes:
    """UTF-8, except row 2 pasted from a Windows program (cp1252) and row 4 with a byte that
    cp1252 leaves unassigned."""
    return (
        b"phone,name\n"
        + "+14155550101,Chloé Dubois\n".encode()
        + "+14155550102,Zoë Ñúñez – “VIP”\n".encode("cp1252")
        + "+14155550103,José García\n".encode()
        + b"+14155550104,Andr\xe9\x81\n"
        + "+14155550105,Søren\n".encode()
    )


def test_a_stray_cp1252_row_is_decoded_on_its_own_and_named() -> None:
    result = load_contacts(io.BytesIO(mostly_utf8()), name="x.csv")
    names = [c.variables["name"] for c in result.contacts]
    assert names == ["Chloé Dubois", "Zoë Ñúñez – “VIP”", "José García", "André\x81", "Søren"]
    opened = open_contacts(io.BytesIO(mostly_utf8()), name="x.csv")
    assert opened.warnings == []  # known once the rows are read
    for _ in opened.batches():
        pass
    assert opened.warnings == [
        "not UTF-8 like the rest of the file, so read as Windows-1252 (cp1252): rows 3 and 5; "
        "check the accented letters there"
    ]


def test_validate_names_the_rows_and_keeps_the_other_names(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(mostly_utf8())
    result = runner.invoke(app, ["validate", str(path)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "warning: not UTF-8 like the rest of the file" in result.output
    assert "rows 3 and 5" in result.output
    assert "Chloé Dubois" in result.output and "Ã" not in result.output


def test_a_windows_1251_file_is_read_as_cyrillic(tmp_path: Path) -> None:
    text = "phone,name,city\n" + "".join(
        f"+1415555010{i},{name},{city}\n" for i, (name, city) in enumerate(CYRILLIC)
    )
    path = tmp_path / "ru.csv"
    path.write_bytes(text.encode("cp1251"))
    with path.open("rb") as source:
        result = load_contacts(source, name="ru.csv")
    assert [(c.variables["name"], c.variables["city"]) for c in result.contacts] == CYRILLIC
    shown = runner.invoke(app, ["validate", str(path)], env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    assert "CSV, cp1251, comma-separated" in shown.output
    assert "Иван Петров" in shown.output


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("phone,name\n1,Jürgen Müller\n2,Zoë Ñúñez\n3,François\n", "cp1252"),
        ("phone,name\n1,Łukasz Żółć\n2,Paweł Wójcik\n3,Dvořák Šťastný\n", "cp1250"),
        ("phone,name\n+81312345678,山田太郎\n+81312345679,佐藤花子\n", "cp932"),
        ("phone,name\n1,Олександр Шевченко\n2,Марія Коваленко\n", "koi8_u"),
    ],
)
def test_other_encodings_are_detected(text: str, encoding: str) -> None:
    table = open_table(io.BytesIO(text.encode(encoding)), name="x.csv")
    assert [row[1] for row in table.rows] == [line.split(",")[1] for line in text.splitlines()[1:]]


def test_a_pure_utf8_file_has_no_warning() -> None:
    opened = open_contacts(io.BytesIO("phone,name\n+14155550101,Chloé\n".encode()), name="x.csv")
    assert opened.format == "CSV, utf-8, comma-separated"
    assert [c.variables["name"] for batch, _ in opened.batches() for c in batch] == ["Chloé"]
    assert opened.warnings == []


def test_fallback_text_and_row_lists() -> None:
    assert fallback_text(b"\x80 \x93x\x94 \x81") == "€ “x” \x81"
    assert describe_rows([7]) == "row 7"
    assert describe_rows(list(range(1, 15))) == "rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 4 more"
