"""Row numbers as the spreadsheet shows them (issue 23 item 6): a CSV's header is row 1, so its
first contact is row 2; a record is one row, even when a quoted cell spans lines. Rejects, the
validate output and the results file's `source_row` all name that row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from campaigns import lifecycle
from campaigns.contacts import load_contacts, open_contacts
from campaigns.results import write_results
from dialer.campaign import CampaignConfig
from dialer.store import Store
from workers.cli import commands  # noqa: F401  (registers the commands)
from workers.cli.app import app

runner = CliRunner()


def _validate(path: Path) -> tuple[str, list[dict[str, str]]]:
    rejects = path.with_suffix(".rejects.csv")
    done = runner.invoke(app, ["validate", str(path), "--rejects", str(rejects)])
    assert done.exit_code == 1, done.output  # a row was rejected
    with rejects.open(encoding="utf-8-sig", newline="") as handle:
        return done.output, list(csv.DictReader(handle))


def test_a_csv_reject_names_the_line_a_user_sees(tmp_path: Path) -> None:
    text = "name,phone\nAna,+14155550101\nBo,+14155550102\nCy,call me maybe\nDee,+14155550104\n"
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8")
    output, (reject,) = _validate(path)
    assert reject["source_row"] == "4"
    assert text.splitlines()[3] == "Cy,call me maybe"  # line 4 of the file, as an editor shows
    assert "example row: 4; phone: call me maybe" in output


def test_a_quoted_cell_over_two_lines_is_one_row_as_a_spreadsheet_shows_it(
    tmp_path: Path,
) -> None:
    text = 'name,phone,notes\nAna,+14155550101,"first line\nsecond line"\nBo,n/a,\n'
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8")
    _, (reject,) = _validate(path)
    assert reject["source_row"] == "3"  # a spreadsheet's row 3; the file's line 4
    with path.open(newline="") as handle:
        assert list(csv.reader(handle))[2] == ["Bo", "n/a", ""]


NAMES = st.text(alphabet="abc xyz", max_size=5)
PHONES = st.sampled_from(
    ["+14155550101", "+14155550102", "(415) 555-0103", "n/a", "12", "", "4.15555E+10"]
)
ROWS = st.lists(st.one_of(st.tuples(NAMES, PHONES), st.just(("", ""))), min_size=1, max_size=25)


@settings(max_examples=80, deadline=None)
@given(ROWS, st.booleans())
def test_every_reject_points_at_the_very_row_of_its_phone(
    rows: list[tuple[str, str]], multiline: bool
) -> None:
    """Against the file as `csv.reader` reads it: row `source_row - 1` (0 is the header) holds
    the phone of each reject and of each contact, across batches, blank rows and notes that
    span lines."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["name", "phone", "notes"])
    for name, phone in rows:
        writer.writerow([name, phone, "two\nlines" if multiline and name else ""])
    text = out.getvalue()
    read = list(csv.reader(io.StringIO(text, newline="")))
    source = io.BytesIO(text.encode())
    with open_contacts(source, name="l.csv", parallel=False) as opened:
        found = list(opened.batches(size=4))
    rejects = [reject for _, batch_rejects in found for reject in batch_rejects]
    for reject in rejects:
        assert read[reject.source_row - 1][1] == reject.phone
    contacts = [contact for batch, _ in found for contact in batch]
    for contact in contacts:
        assert read[contact.source_row - 1][1] == contact.row["phone"]
    assert len(rejects) + len(contacts) + opened.blank_rows == len(rows)


@pytest.fixture
def store(redis_url: str) -> Iterator[Store]:
    opened = Store.from_url(redis_url)
    yield opened
    opened.redis.close()


def _submit(store: Store, path: Path, cid: str) -> list[dict[str, str]]:
    """Load `path` into campaign `cid` and write its results file; its rows."""
    with path.open("rb") as source, open_contacts(source, name=path.name) as opened:
        columns = opened.columns
        config = CampaignConfig(
            campaign_id=cid, agent_id="a", from_number="+14155550100", columns=columns
        )
        lifecycle.submit(store, config, (batch for batch, _ in opened.batches(size=2)))
    results = path.with_name(f"{cid}.results.csv")
    write_results(results, list(columns), store.iter_contacts(cid))
    with results.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_results_name_the_input_rows_and_keep_them_when_dialled_again(
    store: Store, tmp_path: Path
) -> None:
    text = "phone,name\n+14155550101,Ana\n\nn/a,Bo\n+14155550104,Cy\n+14155550105,Dee\n"
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    written = _submit(store, path, "rows")
    assert [r["source_row"] for r in written] == ["2", "5", "6"]
    for row in written:
        assert lines[int(row["source_row"]) - 1].startswith(row["phone_e164"])
    # The results file dialled again: each contact keeps its row in the list first dialled.
    again = tmp_path / "again.csv"
    again.write_bytes(path.with_name("rows.results.csv").read_bytes())
    rerun = _submit(store, again, "again")
    assert [(r["source_row"], r["phone_e164"]) for r in rerun] == [
        (r["source_row"], r["phone_e164"]) for r in written
    ]


def test_a_results_file_written_before_keeps_the_row_numbers_it_holds() -> None:
    """Results files from before counted data rows from 1; they are read as written."""
    text = "phone,source_row,phone_e164,status\n+14155550101,1,+14155550101,failed\n"
    result = load_contacts(io.BytesIO(text.encode()), name="old.results.csv")
    assert [c.source_row for c in result.contacts] == [1]
