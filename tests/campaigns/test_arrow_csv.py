"""pyarrow's reader (`campaigns.arrow_csv`, `arrow_rows`) gives exactly what `csv.reader` gives."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns import arrow_csv
from campaigns.contacts import LoadOptions, open_contacts
from campaigns.model import Contact, Reject

PHONES = [
    "+14155550123", "+14155550123", "+14155550124", "(415) 555-0125", "415.555.0126",
    "1-415-555-0127", "415 555 0128", "4155550129", "+1 (415) 555-0130", "+1-416-555-0131",
    "(416) 555-0132", "+12425550133", "(242) 555-0134", "+1 876 555 0135", "+19005550136",
    "+1 999 555 1234", "+1 311 555 0000", "555-0123", "12345", "n/a", "", " ", "4.15555E+10",
    "'+14155550137", "tel:+14155550138", "+44 20 7946 0958", "020 7946 0959", "+33 1 23 45 67 89",
    "+1 415 555 0139 ext 12", "+14155550140x", "٤١٥٥٥٥٠١٢٣", "+1415555014", "+141555501411",
    "+14165550131", "14155550125",
]  # fmt: skip
TEXT = st.text(alphabet="ab é,;|\t\"'\n\r-", max_size=8)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A contacts CSV: phones of every shape and duplicates, cells with delimiters, quotes and
    line breaks, sometimes a BOM, CRLF, a ragged or blank row, a repeated header."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    others = draw(st.lists(st.sampled_from(["first", "last", "notes", "source_row"]), max_size=3))
    header = ["phone", *dict.fromkeys(others)]
    out = io.StringIO()
    writer = csv.writer(
        out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))
    )
    writer.writerow(header)
    for _ in range(draw(st.integers(0, 30))):
        kind = draw(st.integers(0, 40))
        cells = [draw(st.sampled_from(PHONES)), *(draw(TEXT) for _ in header[1:])]
        if kind == 0:
            cells = cells[:-1] or ["", ""]  # ragged
        elif kind == 1:
            cells = header
        elif kind == 2:
            out.write("\n")  # a blank line
            continue
        writer.writerow(cells)
    text = out.getvalue()
    if not draw(st.booleans()):
        text = text.rstrip("\r\n")  # no line break at the end
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + text.encode()


Read = tuple[list[tuple[Contact, list[str]]], list[Reject], int, list[str]]


def read(data: bytes, options: LoadOptions, size: int, *, columnar: bool) -> Read:
    opened = open_contacts(
        io.BytesIO(data), name="c.csv", options=options, parallel=False, columnar=columnar
    )
    contacts: list[tuple[Contact, list[str]]] = []
    rejects: list[Reject] = []
    for good, bad in opened.batches(size=size):
        contacts += zip(good, good.cells, strict=True)
        rejects += bad
    return contacts, rejects, opened.blank_rows, opened.warnings


@given(
    data=csv_files(),
    size=st.integers(1, 12),
    dnc=st.sets(st.sampled_from(["+14155550124", "+14165550131", "+442079460958"])),
    allow=st.sampled_from([None, frozenset({"mobile", "fixed_line_or_mobile", "premium_rate"})]),
)
@settings(max_examples=300, deadline=None)
def test_pyarrow_reads_what_csv_reader_reads(
    data: bytes, size: int, dnc: frozenset[str], allow: frozenset[str] | None
) -> None:
    """The same contacts (row, E.164, cells, variables), the same rejects with the same reasons
    and messages, the same blank rows, whichever reader reads the file."""
    for options in (LoadOptions(dnc=frozenset(dnc)), LoadOptions(allow_types=allow)):
        try:
            expected = read(data, options, size, columnar=False)
        except Exception as exc:  # an unreadable file must fail the same way
            try:
                read(data, options, size, columnar=True)
            except Exception as again:
                assert str(again) == str(exc)
                continue
            raise
        assert read(data, options, size, columnar=True) == expected


def test_a_plain_file_is_read_by_pyarrow_and_an_odd_one_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(arrow_csv, "BLOCK_BYTES", 4096)  # many blocks in a small file
    rows = "".join(f"+1415{n:07d},a,b\n" for n in range(5550100, 5551100))
    plain = tmp_path / "plain.csv"
    plain.write_text("phone,first,last\n" + rows)
    with plain.open("rb") as handle:
        assert open_contacts(handle, name="plain.csv").columnar
    # A ragged row far down: csv.reader reads on from the first row not handed out.
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("phone,first,last\n" + rows + "+14155550999,only two\n" + rows)
    with ragged.open("rb") as handle:
        opened = open_contacts(handle, name="ragged.csv")
        batches = opened.batches(size=50)
        first, _ = next(batches)
        assert opened.columnar
        contacts = [c.source_row for c in first]
        rejects: list[Reject] = []
        for good, bad in batches:
            contacts += [c.source_row for c in good]
            rejects += bad
    assert not opened.columnar
    assert contacts == list(range(2, 1002))
    assert (rejects[0].source_row, rejects[0].reason.value) == (1002, "malformed_row")
    assert [r.source_row for r in rejects[1:]] == list(range(1003, 2003))
    assert rejects[1].detail == "same number as row 2 (+14155550100)"


def test_a_blank_line_is_a_blank_row_to_pyarrow_too(tmp_path: Path) -> None:
    blank = tmp_path / "blank.csv"
    blank.write_text("phone,first\n+14155550100,a\n\n+14155550101,b\n")
    with blank.open("rb") as handle:
        opened = open_contacts(handle, name="blank.csv")
        assert [c.source_row for good, _ in opened.batches() for c in good] == [2, 4]
        assert opened.blank_rows == 1


def test_a_file_left_open_at_exit_ends_the_process_cleanly(tmp_path: Path) -> None:
    """pyarrow reads ahead on a thread of its own: never through Python, which would abort an
    interpreter that ends meanwhile ("PyGILState_Release ... finalizing")."""
    import subprocess
    import sys

    path = tmp_path / "big.csv"
    path.write_text("phone,notes\n" + "".join(f"+1415{n:07d},x\n" for n in range(200_000)))
    script = (
        "from campaigns.contacts import open_contacts\n"
        f"opened = open_contacts(open({str(path)!r}, 'rb'), name='big.csv')\n"
    )  # opened, never read nor closed: pyarrow is reading ahead as the interpreter ends
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()


def test_reading_a_file_with_pyarrow_does_not_import_pandas(tmp_path: Path) -> None:
    """pyarrow's own numpy conversions import pandas (half a second) on first use: the loader
    goes through buffers instead (`campaigns.arrow_numpy`)."""
    import subprocess
    import sys

    path = tmp_path / "c.csv"
    path.write_text("phone,notes\n+14155550100,a\n(415) 555-0101,b\nn/a,c\n+14155550100,d\n")
    script = (
        "import sys\n"
        "from campaigns.contacts import open_contacts\n"
        f"opened = open_contacts(open({str(path)!r}, 'rb'), name='c.csv')\n"
        "assert opened.columnar\n"
        "found = [(len(good), len(bad)) for good, bad in opened.batches()]\n"
        "assert found == [(2, 2)], found\n"
        "print('pandas' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
