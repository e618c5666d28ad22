"""The results file (campaigns.results): columns, cells, attempts, formulas, the atomic write."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from campaigns.model import RESULT_COLUMNS
from campaigns.results import (
    analysis_fields,
    attempts_made,
    neutralise,
    result_columns,
    result_row,
    write_results,
)
from dialer.store import ContactRecord

# Every character that makes a spreadsheet run a cell as a formula (Excel, LibreOffice, Sheets).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
INPUT = ["Phone", "first_name", "notes"]


def _contact(source_row: int = 1, **fields: str) -> ContactRecord:
    """A stored contact as the store returns it, from its hash fields."""
    stored = {
        "state": "pending",
        "phone": "+14155550100",
        "row": json.dumps(["415 555 0100", "Ann", "vip"]),
        **fields,
    }
    return ContactRecord.from_redis(source_row, stored)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_header_is_the_input_columns_then_ours() -> None:
    assert result_columns(INPUT) == [*INPUT, *RESULT_COLUMNS]


def test_a_results_file_dialled_again_gets_this_runs_result_columns_once() -> None:
    again = ["Phone", "first_name", "source_row", "phone_e164", "status", "call_id"]
    assert result_columns(again) == ["Phone", "first_name", *RESULT_COLUMNS]
    old = {"row": json.dumps(["+1 415 555 0100", "Ann", "7", "+14155550100", "failed", "c0"])}
    row = result_row(again, _contact(3, **old, state="completed"))
    assert row[:2] == ["+1 415 555 0100", "Ann"]
    by_column = dict(zip(result_columns(again), row, strict=True))
    assert (by_column["source_row"], by_column["status"], by_column["call_id"]) == (
        "3",
        "completed",
        "",
    )


def test_a_row_gives_the_inputs_as_loaded_and_what_happened() -> None:
    contact = _contact(
        5,
        state="voicemail",
        attempt="2",
        sends="1",
        call_id="c9",
        outcome="Voicemail",
        summary="left a message",
        waiting="",
    )
    row = dict(zip(result_columns(INPUT), result_row(INPUT, contact), strict=True))
    assert (row["Phone"], row["first_name"], row["notes"]) == ("415 555 0100", "Ann", "vip")
    assert (row["source_row"], row["phone_e164"], row["status"]) == (
        "5",
        "+14155550100",
        "voicemail",
    )
    assert (row["attempts"], row["call_id"], row["outcome"]) == ("2", "c9", "Voicemail")
    assert (row["summary"], row["transcript"], row["error"]) == ("left a message", "", "")


def test_a_short_stored_row_is_padded_to_the_header() -> None:
    row = result_row(INPUT, _contact(row=json.dumps(["415 555 0100"])))
    assert len(row) == len(result_columns(INPUT))
    assert row[:3] == ["415 555 0100", "", ""]


@pytest.mark.parametrize(
    ("fields", "attempts"),
    [
        ({}, 0),  # never dialled
        ({"sends": "0"}, 0),
        ({"sends": "1"}, 1),
        ({"attempt": "1", "sends": "1"}, 1),
        ({"attempt": "2", "sends": "0"}, 1),  # attempt 2 is due, not sent yet
        ({"attempt": "2", "sends": "1"}, 2),
        ({"attempt": "3", "sends": "2"}, 3),
    ],
)
def test_attempts_count_what_was_sent(fields: dict[str, str], attempts: int) -> None:
    assert attempts_made(_contact(**fields)) == attempts


@pytest.mark.parametrize("start", FORMULA_STARTS, ids=repr)
def test_every_formula_start_is_neutralised(start: str) -> None:
    for cell in (f"{start}cmd|' /C calc'!A0", f"{start}SUM(A1:A9)", f"{start}1+1x"):
        assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize(
    "cell", ["+14155550100", "+1 (415) 555-0100", "-5", "-2.5", "+44 20 7946 0958", "plain", ""]
)
def test_numbers_and_plain_text_are_left_alone(cell: str) -> None:
    assert neutralise(cell) == cell


@pytest.mark.parametrize("start", FORMULA_STARTS, ids=repr)
def test_result_cells_from_the_input_and_from_the_call_are_neutralised(start: str) -> None:
    formula = f'{start}HYPERLINK("http://x","y")'
    cells = json.dumps(["415 555 0100", formula, "vip"])
    contact = _contact(summary=formula, outcome=formula, error=formula, row=cells)
    row = dict(zip(result_columns(INPUT), result_row(INPUT, contact), strict=True))
    for column in ("first_name", "summary", "outcome", "error"):
        assert row[column] == "'" + formula, column


def test_the_file_is_written_whole_and_replaces_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "out" / "results.csv"
    path.parent.mkdir()
    path.write_text("old,file\n", encoding="utf-8")
    rows = [_contact(1, state="completed", sends="1"), _contact(2, state="no_answer")]
    assert write_results(path, INPUT, rows) == 2
    written = _read(path)
    assert [(r["source_row"], r["status"], r["attempts"]) for r in written] == [
        ("1", "completed", "1"),
        ("2", "no_answer", "0"),
    ]
    assert [p.name for p in path.parent.iterdir()] == ["results.csv"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text("old,file\n", encoding="utf-8")

    def rows() -> Iterator[ContactRecord]:
        yield _contact(1, state="completed")
        raise RuntimeError("the store went away")

    with pytest.raises(RuntimeError):
        write_results(path, INPUT, rows())
    assert path.read_text(encoding="utf-8") == "old,file\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


# -- every call field (issue 26) ------------------------------------------------------------------

ANALYSIS = {
    "outcome": "Interested",
    "summary": "=wants a demo",
    "sentiment": "positive",
    "extracted": {"budget": "$5,000-20,000", "decision_maker": True, "size": None},
    "key_points": ["budget", {"next": "demo"}],
}


def test_call_fields_come_after_todays_columns_then_one_column_per_analysis_field(
    tmp_path: Path,
) -> None:
    path = tmp_path / "out.results.csv"
    rich = _contact(
        1,
        state="completed",
        cost_cents="4",
        recording_url="https://rec.example/1.wav?expires=1",
        latency='{"llm_ttft":{"avg_ms":420.0}}',
        analysis=json.dumps(ANALYSIS),
    )
    other = _contact(2, state="completed", analysis=json.dumps({"outcome": "Voicemail", "x": 1}))
    write_results(path, INPUT, [rich, other, _contact(3)])
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    analysis = [
        "analysis.extracted.budget",
        "analysis.extracted.decision_maker",
        "analysis.key_points",
        "analysis.outcome",
        "analysis.sentiment",
        "analysis.summary",
        "analysis.x",
    ]
    assert header == [*INPUT, *RESULT_COLUMNS, *analysis]
    assert RESULT_COLUMNS[-3:] == ("cost_cents", "recording_url", "latency")
    first, second, third = _read(path)
    assert (first["cost_cents"], first["recording_url"]) == (
        "4",
        "https://rec.example/1.wav?expires=1",
    )
    assert json.loads(first["latency"]) == {"llm_ttft": {"avg_ms": 420.0}}
    assert first["analysis.extracted.budget"] == "$5,000-20,000"
    assert first["analysis.extracted.decision_maker"] == "true"  # JSON, as OneInbox sent it
    assert json.loads(first["analysis.key_points"]) == ["budget", {"next": "demo"}]
    assert first["analysis.summary"] == "'=wants a demo"  # neutralised like every cell
    assert (second["analysis.outcome"], second["analysis.x"], second["analysis.sentiment"]) == (
        "Voicemail",
        "1",
        "",
    )
    assert all(third[c] == "" for c in analysis)


def test_a_results_file_read_again_drops_the_call_and_analysis_columns() -> None:
    again = [*INPUT, *RESULT_COLUMNS, "analysis.outcome", "analysis.extracted.budget"]
    assert result_columns(again) == [*INPUT, *RESULT_COLUMNS]
    assert result_columns(again, ["analysis.sentiment"]) == [
        *INPUT,
        *RESULT_COLUMNS,
        "analysis.sentiment",
    ]


def test_analysis_that_is_not_an_object_gives_no_columns() -> None:
    for text in ("", "[1, 2]", "not json", '"text"'):
        assert analysis_fields(text) == {}
