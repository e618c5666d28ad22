"""The results file: every input column in input order, then what happened to the contact.

It is written to a temporary file beside the target and renamed over it, so a reader never sees
half a file, created 0600 (mkstemp). Cells a spreadsheet would run as a formula, the header's
included, are neutralised with a leading quote.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from campaigns.model import RESULT_COLUMNS, RESULTS_FILE_MARKERS
from dialer.private import private_dir

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# ...unless it is plainly a number or a phone number, which is left as it is.
_PLAIN_NUMBER = re.compile(r"^[+-]?[\d\s().-]*\d[\d\s().-]*$")

# Where each result column comes from in a stored contact.
_FROM_STORE = {
    "phone_e164": "phone",
    "status": "state",
    "attempts": "attempt",
}


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
        return [c for c in columns if c not in RESULT_COLUMNS]
    return columns


def result_columns(input_columns: Iterable[str]) -> list[str]:
    """The header: the kept input columns, then ours."""
    return kept_input_columns(input_columns) + list(RESULT_COLUMNS)


def result_row(input_columns: list[str], source_row: int, contact: Mapping[str, str]) -> list[str]:
    """One line of the results file for a stored contact."""
    values = json.loads(contact.get("row", "[]"))
    kept = kept_input_columns(input_columns)
    cells = [str(v) for c, v in zip(input_columns, values, strict=False) if c in kept]
    cells += [""] * (len(kept) - len(cells))
    for column in RESULT_COLUMNS:
        if column == "source_row":
            cells.append(str(source_row))
        elif column == "attempts":
            cells.append(str(attempts_made(contact)))
        else:
            cells.append(contact.get(_FROM_STORE.get(column, column), ""))
    return [neutralise(c) for c in cells]


def attempts_made(contact: Mapping[str, str]) -> int:
    """Attempts actually dialled: the current one counts once its create was sent."""
    attempt = int(contact.get("attempt") or 1)
    sent = int(contact.get("sends") or 0) > 0
    return max(0, attempt if sent else attempt - 1)


def write_results(
    path: Path, input_columns: list[str], rows: Iterable[tuple[int, Mapping[str, str]]]
) -> int:
    """Write the results file atomically; returns the number of contacts written."""
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([neutralise(c) for c in result_columns(input_columns)])
            for source_row, contact in rows:
                writer.writerow(result_row(input_columns, source_row, contact))
                count += 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count
