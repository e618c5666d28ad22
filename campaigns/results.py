"""The results file: every input column in input order, then what happened to the contact.

After the fixed result columns comes one column per field of the calls' `analysis` seen in the
campaign (`analysis.extracted.budget`: nested objects flattened with dots, lists as JSON text),
in sorted order, so the same campaign always gives the same header.

It is written to a temporary file beside the target and renamed over it, so a reader never sees
half a file, created 0600 (mkstemp). Cells a spreadsheet would run as a formula, the header's
included, are neutralised with a leading quote. A path ending `.xlsx` is written as a workbook;
any other as CSV in a `CsvStyle` (by default with a byte-order mark: `campaigns.excel`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from campaigns.excel import CsvStyle, csv_writer, write_xlsx
from campaigns.model import ANALYSIS_PREFIX, RESULT_COLUMNS, RESULTS_FILE_MARKERS, is_result_column
from dialer.private import private_dir
from dialer.store import ContactRecord

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# ...unless it is plainly a number or a phone number, which is left as it is.
_PLAIN_NUMBER = re.compile(r"^[+-]?[\d\s().-]*\d[\d\s().-]*$")


def neutralise(cell: str) -> str:
    """The cell with a leading `'` if a spreadsheet would execute it as a formula."""
    if cell.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(cell):
        return "'" + cell
    return cell


def kept_input_columns(input_columns: Iterable[str]) -> list[str]:
    """Input columns written back: all of them, except the result columns of a results file
    that is being dialled again (they are replaced by this run's)."""
    columns = list(input_columns)
    if set(RESULTS_FILE_MARKERS) <= set(columns):
        return [c for c in columns if not is_result_column(c)]
    return columns


def result_columns(input_columns: Iterable[str], analysis: Iterable[str] = ()) -> list[str]:
    """The header: the kept input columns, ours, then the `analysis` columns given."""
    return kept_input_columns(input_columns) + list(RESULT_COLUMNS) + list(analysis)


def result_row(
    input_columns: list[str], contact: ContactRecord, analysis: Iterable[str] = ()
) -> list[str]:
    """One line of the results file for a stored contact (`analysis`: its analysis columns)."""
    kept = kept_input_columns(input_columns)
    cells = [str(v) for c, v in zip(input_columns, contact.cells, strict=False) if c in kept]
    cells += [""] * (len(kept) - len(cells))
    cells += [_RESULT_CELLS[column](contact) for column in RESULT_COLUMNS]
    found = analysis_fields(contact.analysis)
    cells += [found.get(column, "") for column in analysis]
    return [neutralise(c) for c in cells]


def analysis_fields(text: str) -> dict[str, str]:
    """A stored analysis (JSON object text) as columns: `analysis.<key>[.<key>...]` -> text.

    Objects are flattened with dots; a list (and anything in it) is one cell of JSON text.
    Text that is not a JSON object gives no columns."""
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return dict(_flatten(ANALYSIS_PREFIX.rstrip("."), value))


def _flatten(prefix: str, value: object) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from _flatten(f"{prefix}.{name}", inner)
    elif isinstance(value, str):
        yield prefix, value
    elif value is not None:
        yield prefix, json.dumps(value, ensure_ascii=False)


def analysis_columns(contacts: Iterable[ContactRecord]) -> list[str]:
    """Every analysis column the contacts have, sorted."""
    seen: set[str] = set()
    for contact in contacts:
        seen.update(analysis_fields(contact.analysis))
    return sorted(seen)


def attempts_made(contact: ContactRecord) -> int:
    """Attempts actually dialled: the current one counts once its create was sent."""
    return max(0, contact.attempt if contact.sends > 0 else contact.attempt - 1)


# Each result column, from a stored contact.
_RESULT_CELLS: dict[str, Callable[[ContactRecord], str]] = {
    "source_row": lambda c: str(c.source_row or ""),
    "phone_e164": lambda c: c.phone,
    "status": lambda c: c.state.value,
    "attempts": lambda c: str(attempts_made(c)),
    "call_id": lambda c: c.call_id,
    "call_status": lambda c: c.call_status,
    "end_reason": lambda c: c.end_reason,
    "outcome": lambda c: c.outcome,
    "duration_seconds": lambda c: c.duration_seconds,
    "started_at": lambda c: c.started_at,
    "ended_at": lambda c: c.ended_at,
    "summary": lambda c: c.summary,
    "transcript": lambda c: c.transcript,
    "error": lambda c: c.error,
    "waiting": lambda c: c.waiting,
    "cost_cents": lambda c: c.cost_cents,
    "recording_url": lambda c: c.recording_url,
    "latency": lambda c: c.latency,
}


def write_results(
    path: Path,
    input_columns: list[str],
    contacts: Iterable[ContactRecord],
    style: CsvStyle | None = None,
) -> int:
    """Write the results file atomically; returns the number of contacts written."""
    records = list(contacts)
    rows = _rows(input_columns, records, analysis_columns(records))
    private_dir(path.parent)
    if path.suffix.lower() == ".xlsx":
        return write_xlsx(path, "results", rows)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    count = -1
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            writer = csv_writer(out, style or CsvStyle())
            for row in rows:
                writer.writerow(row)
                count += 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def _rows(
    input_columns: list[str], contacts: list[ContactRecord], analysis: list[str]
) -> Iterator[list[str]]:
    yield [neutralise(c) for c in result_columns(input_columns, analysis)]
    for contact in contacts:
        yield result_row(input_columns, contact, analysis)
