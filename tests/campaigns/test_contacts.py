"""The contacts loader on real-world exports: the exact contacts and the exact rejects of each."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.contacts import LoadOptions, LoadResult, load_contacts, open_contacts, parse_list
from campaigns.model import Contact, Reject
from campaigns.numbers import NumberProcess
from dialer.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"


def load(name: str, **options: object) -> LoadResult:
    with (DATA / name).open("rb") as source:
        return load_contacts(source, name=name, options=LoadOptions(**options))  # type: ignore[arg-type]


def phones(result: LoadResult) -> list[tuple[int, str]]:
    return [(c.source_row, c.phone_e164) for c in result.contacts]


def rejects(result: LoadResult) -> list[tuple[int, str]]:
    return [(r.source_row, r.reason.value) for r in result.rejects]


def test_excel_export_with_bom_semicolons_and_crlf() -> None:
    result = load("excel_bom_semicolon.csv")
    assert result.columns == ("Phone Number", "First Name", "Company", "Notes")
    assert result.phone_column == "Phone Number"
    assert result.variable_columns == ("First Name", "Company", "Notes")
    assert phones(result) == [(4, "+12125550100"), (7, "+14155550123"), (8, "+442079460958")]
    assert rejects(result) == [
        (2, "malformed_row"),  # `Acme; Inc` unquoted: 5 cells
        (3, "precision_lost"),
        (6, "malformed_row"),  # the header again
        (9, "not_a_number"),
        (10, "duplicate"),
    ]
    assert result.blank_rows == 1
    chloe = result.contacts[0]
    assert chloe.variables == {
        "First Name": "Chloé",
        "Company": "Gamma; Ltd",
        "Notes": "line one\r\nline two",
    }
    assert chloe.row["Phone Number"] == "'+1 212 555 0100"
    assert result.contacts[2].variables["First Name"] == "Dev"  # trimmed
    assert result.contacts[2].row["First Name"] == " Dev "  # the original text is kept
    assert result.rejects[4].detail == "same number as row 4 (+12125550100)"
    assert "5 cells but the header has 4" in result.rejects[0].detail


def test_cp1252_file_with_accented_names() -> None:
    result = load("cp1252_accents.csv")
    assert phones(result) == [(2, "+16465550199"), (3, "+16465550142")]
    assert rejects(result) == [(4, "missing_number"), (5, "invalid_number")]
    assert [c.variables["Name"] for c in result.contacts] == ["José Müller", "Zoë Ñúñez"]
    assert result.contacts[1].variables["City"] == "Köln"


def test_utf16_tab_separated_keeps_leading_zeros_and_plus() -> None:
    result = load("utf16_tab.csv", default_region="GB")
    assert phones(result) == [(2, "+442079460958"), (3, "+33612345678")]
    assert [c.variables["Amount"] for c in result.contacts] == ["00120", "+5"]
    assert result.contacts[1].variables["First Name"] == "Inès"


def test_reserved_columns_override_per_row() -> None:
    result = load("hubspot_pipe.csv")
    assert result.variable_columns == ("Record ID", "First Name")
    first, second = result.contacts
    assert (first.phone_e164, first.country, first.from_number) == (
        "+442079460958",
        "GB",
        "+14155550100",
    )
    assert (first.timezone, first.agent_id) == ("Europe/London", "agent_uk")
    assert (second.phone_e164, second.agent_id, second.country) == (
        "+14155550177",
        "agent_us",
        None,
    )
    assert rejects(result) == [(4, "invalid_field"), (5, "invalid_field"), (6, "invalid_field")]
    assert "timezone" in result.rejects[0].detail
    assert "country" in result.rejects[1].detail
    assert "from_number" in result.rejects[2].detail


def test_results_file_fed_back_in() -> None:
    result = load("results_again.csv")
    assert result.phone_column == "phone"
    assert result.variable_columns == ("name",)
    assert phones(result) == [(1, "+14155550123"), (2, "+14155550124")]


def test_xlsx_first_sheet_and_named_sheet() -> None:
    result = load("contacts.xlsx")
    assert phones(result) == [(2, "+14155550123"), (3, "+442079460958"), (4, "+14155550124")]
    assert rejects(result) == [(6, "not_a_number")]
    assert result.contacts[0].variables == {"Name": "Ana", "Zip": "02134", "Joined": ""}
    assert result.contacts[2].variables["Zip"] == "2134"
    leads = load("contacts.xlsx", sheet="Leads")
    assert phones(leads) == [(2, "+16465550199")]
    with pytest.raises(InputError, match=r"no sheet 'Nope'.*Contacts.*Leads"):
        load("contacts.xlsx", sheet="Nope")


def test_header_only_and_ragged() -> None:
    assert phones(load("header_only.csv")) == []
    assert rejects(load("header_only.csv")) == []
    ragged = load("ragged.csv")
    assert phones(ragged) == [(2, "+14155550123")]
    assert rejects(ragged) == [(3, "malformed_row"), (4, "malformed_row")]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "empty.csv: the file is empty"),
        ("fake.pdf.csv", "fake.pdf.csv: this is a PDF document"),
        ("binary.csv", "binary.csv: this is a binary file"),
        (
            "duplicate_header.csv",
            r"duplicate_header.csv, row 1 \(header\), column 4: .*'name' twice",
        ),
        ("no_phone_column.csv", r"no phone column found among the headers \['name', 'email'\]"),
    ],
)
def test_unusable_files_name_the_file(name: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load(name)


def test_phone_column_option_and_detection_ignore_case_space_and_bom() -> None:
    data = "\ufeff  MOBILE  ,Other Phone\n(415) 555-0123,2125550100\n".encode()
    result = load_contacts(io.BytesIO(data), name="x.csv")
    assert result.phone_column == "MOBILE"
    chosen = load_contacts(
        io.BytesIO(data), name="x.csv", options=LoadOptions(phone_column="other phone")
    )
    assert phones(chosen) == [(2, "+12125550100")]
    with pytest.raises(InputError, match="--phone-column: no column 'fax'"):
        load_contacts(io.BytesIO(data), name="x.csv", options=LoadOptions(phone_column="fax"))


def test_variables_option_dnc_and_allowed_types() -> None:
    data = b"phone,first,last\n+447400123456,A,B\n+442079460958,C,D\n+14155550123,E,F\n"
    options = LoadOptions(
        variables=("First",),
        dnc=frozenset({"+14155550123"}),
        allow_types=frozenset({"mobile"}),
        default_region="gb",
    )
    result = load_contacts(io.BytesIO(data), name="x.csv", options=options)
    assert [c.variables for c in result.contacts] == [{"first": "A"}]
    assert rejects(result) == [(3, "wrong_type"), (4, "dnc")]


def test_bad_options() -> None:
    with pytest.raises(InputError, match="--default-region"):
        LoadOptions(default_region="XX")
    with pytest.raises(InputError, match=r"--allow-types.*'cell'"):
        LoadOptions(allow_types=frozenset({"cell"}))
    assert parse_list(" a, b ,,c ") == ("a", "b", "c")
    assert parse_list("  ") is None


def test_huge_cell_is_rejected_with_its_column() -> None:
    data = b"phone,notes\n+14155550123," + b"x" * 10_000_000 + b"\n+14155550124,ok\n"
    result = load_contacts(io.BytesIO(data), name="big.csv")
    assert phones(result) == [(3, "+14155550124")]
    assert rejects(result) == [(2, "malformed_row")]
    assert "column 'notes' holds 10,000,000 characters" in result.rejects[0].detail
    huge_phone = load_contacts(io.BytesIO(b"phone\n" + b"1" * 10_000_000 + b"\n"), name="p.csv")
    assert rejects(huge_phone) == [(2, "malformed_row")]
    assert len(huge_phone.rejects[0].phone) < 200


def test_batches_stream_and_find_duplicates_across_batches() -> None:
    lines = [f"+1415555{n:04d}" for n in range(100, 130)] + ["+14155550100"]
    data = ("phone\n" + "\n".join(lines) + "\n").encode()
    opened = open_contacts(io.BytesIO(data), name="x.csv")
    sizes = []
    found: list[Contact] = []
    last = []
    for contacts, rejected in opened.batches(size=7):
        sizes.append(len(contacts) + len(rejected))
        found += contacts
        last = rejected
    assert sizes == [7, 7, 7, 7, 3]
    assert len(found) == 30
    assert [(r.source_row, r.reason.value, r.detail) for r in last] == [
        (32, "duplicate", "same number as row 2 (+14155550100)")
    ]


def test_non_seekable_source_and_cp1252_fallback_to_latin1() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    data = "phone,name\n4155550123,Andr\xe9\x81\n".encode("latin-1")
    result = load_contacts(io.BufferedReader(Pipe(data)), name="pipe")  # type: ignore[type-var]
    assert result.contacts[0].variables["name"] == "André\x81"


class Tracked(io.BytesIO):
    """A source that records whether it was closed."""


def test_the_source_is_closed_when_read_to_the_end() -> None:
    source = Tracked(b"phone\n+14155550123\n")
    assert phones(load_contacts(source, name="x.csv")) == [(2, "+14155550123")]
    assert source.closed


def test_the_source_is_closed_on_an_error() -> None:
    for data in (b"", b"name\nAna\n"):  # no header; no phone column
        source = Tracked(data)
        with pytest.raises(InputError):
            open_contacts(source, name="x.csv")
        assert source.closed


def test_a_file_left_early_continues_and_close_closes_it(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("phone\n+14155550123\n+14155550124\n+14155550125\n")
    with open_contacts(path.open("rb"), name="x.csv") as opened:
        for contacts, _ in opened.batches(size=1):
            assert [c.source_row for c in contacts] == [2]
            break
        assert [len(c) for c, _ in opened.batches(size=1)] == [1, 1]
    opened.close()  # closing twice is harmless


# Rows of every kind the loader tells apart; {n} is a number shared by several rows.
KINDS = [
    "+1415555{n:04d},a,b",
    "(415) 555-{n:04d},a,b",
    "+1415555{n:04d},a",  # ragged
    "+1415555{n:04d},a," + "x" * 100_001,  # an oversized cell
    "+1415555{n:04d},a,b,c",  # ragged
    "n/a,a,b",
    ",,",  # blank
    ",a,b",
    "phone,first,last",  # the header again
    "+1 999 555 {n:04d},a,b",
    '+1415555{n:04d},"quoted, comma","line\nbreak"',
]
DNC = frozenset({"+14155550001", "+14155550003"})


def messy(kinds: list[tuple[int, int]]) -> bytes:
    lines = [KINDS[kind].format(n=n) for kind, n in kinds]
    return ("phone,first,last\n" + "\n".join(lines) + "\n").encode()


def read_all(
    data: bytes, size: int, *, parallel: bool, per_row: bool = False
) -> tuple[list[Contact], list[Reject], int]:
    """Contacts, rejects and blank rows; `per_row` takes the one-row-at-a-time path."""
    from dialer.phone import NUMBER_TYPES

    allow = NUMBER_TYPES if per_row else None
    options = LoadOptions(dnc=DNC, allow_types=allow)
    opened = open_contacts(io.BytesIO(data), name="m.csv", options=options, parallel=parallel)
    contacts: list[Contact] = []
    rejects: list[Reject] = []
    for good, bad in opened.batches(size=size):
        contacts += good
        rejects += bad
    return contacts, rejects, opened.blank_rows


@given(
    kinds=st.lists(st.tuples(st.integers(0, len(KINDS) - 1), st.integers(0, 5)), max_size=40),
    size=st.integers(1, 9),
)
@settings(max_examples=150, deadline=None)
def test_batches_at_once_agree_with_rows_one_by_one(
    kinds: list[tuple[int, int]], size: int
) -> None:
    data = messy(kinds)
    assert read_all(data, size, parallel=False) == read_all(
        data, 1000, parallel=False, per_row=True
    )


def test_a_large_file_read_with_the_numbers_process_loses_nothing() -> None:
    import random

    rnd = random.Random(7)
    kinds = [
        (rnd.choice([0, 0, 0, 1, 1, *range(len(KINDS))]), rnd.randrange(3000)) for _ in range(5000)
    ]
    data = messy(kinds)
    parallel = read_all(data, 400, parallel=True)
    assert parallel == read_all(data, 5000, parallel=False, per_row=True)
    contacts, rejects, _ = parallel
    assert len(contacts) > 1000
    assert {r.reason.value for r in rejects} >= {
        "duplicate", "dnc", "malformed_row", "invalid_number", "not_a_number", "missing_number"
    }  # fmt: skip


def test_the_garbage_collector_is_back_on_however_a_file_ends() -> None:
    import gc

    data = ("phone\n" + "\n".join(f"+1415555{n:04d}" for n in range(100, 130)) + "\n").encode()
    assert gc.isenabled()
    first = open_contacts(io.BytesIO(data), name="a.csv")
    second = open_contacts(io.BytesIO(data), name="b.csv")
    next(iter(first.batches(size=7)))
    assert not gc.isenabled()  # off while a file streams
    assert sum(len(c) for c, _ in second.batches(size=7)) == 30
    assert not gc.isenabled()  # the first still streams
    first.close()
    assert gc.isenabled()
    dropped = open_contacts(io.BytesIO(data), name="c.csv", columnar=False)
    batches = dropped.batches(size=7)
    next(batches), next(batches)  # the second batch starts the numbers process
    child = dropped._numbers
    assert isinstance(child, NumberProcess)
    del batches, dropped  # never closed
    assert gc.isenabled()
    assert child._child.returncode is not None  # and the child has ended
    with pytest.raises(InputError):
        for _ in open_contacts(
            io.BytesIO(b"phone\n\xff\xfe\x00\x00oops\n" * 3), name="d.csv"
        ).batches():
            pass
    assert gc.isenabled()


@pytest.mark.parametrize("extra", ["", ",timezone"], ids=["batch path", "row path"])
def test_special_types_are_refused_by_default_on_both_paths(extra: str) -> None:
    cell = "," if extra else ""
    rows = ["+19005550123", "+14155550123", "+19005550123", "+18005550100", "+14155550123"]
    data = f"phone{extra}\n" + "".join(f"{phone}{cell}\n" for phone in rows)
    result = load_contacts(io.BytesIO(data.encode()), name="x.csv")
    assert phones(result) == [(3, "+14155550123"), (5, "+18005550100")]
    assert rejects(result) == [(2, "wrong_type"), (4, "wrong_type"), (6, "duplicate")]
    every = load_contacts(
        io.BytesIO(data.encode()), name="x.csv", options=LoadOptions(allow_types=None)
    )
    assert rejects(every) == [(4, "duplicate"), (6, "duplicate")]
