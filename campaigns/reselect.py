"""Choosing contacts to dial again: the rows of a results file that ended with given statuses.

Shared by `dialer retry` and the server's POST /api/campaigns/{id}/retry. A results file is
read like a contacts file (any common encoding and delimiter, or `.xlsx`: it may have been
saved again by a spreadsheet), and statuses are compared without case.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from pathlib import Path

from campaigns.columns import key
from campaigns.sources import open_table
from dialer.errors import InputError
from dialer.private import open_private

RETRYABLE = (
    "completed",
    "voicemail",
    "no_answer",
    "failed",
    "error",
    "canceled",
    "expired",
    "suppressed",
)


def retry_id(results: Path, statuses: Iterable[str], stem: str = "") -> str:
    """`<stem>-retry-<8 hex>` from the results file's resolved path and the statuses chosen:
    the same retry asked again resumes the same campaign. `stem` defaults to the file's."""
    chosen = ",".join(sorted({s.lower() for s in statuses}))
    digest = hashlib.sha256(f"{results.resolve()}\n{chosen}".encode()).hexdigest()[:8]
    name = results.name.removesuffix(".csv").removesuffix(".xlsx").removesuffix(".results")
    stem = "".join(c if c.isalnum() or c in "._-" else "-" for c in stem or name).lstrip("._-")
    return f"{stem[:40] or 'results'}-retry-{digest}"


def retry_list(results: Path, cid: str) -> Path:
    """Where the retry campaign `cid`'s contacts are written: beside the results file, named
    by the campaign (so running the retry again finds the same list)."""
    return results.with_name(f"{cid}.csv")


def select_rows(results: Path, statuses: set[str], out: Path) -> tuple[int, int]:
    """Copy the rows of `results` whose status is in `statuses` to `out` (a comma-separated
    CSV), every column kept. Returns (rows copied, rows with status unknown among them)."""
    wanted = {s.lower() for s in statuses}
    try:
        handle = results.open("rb")
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", where=str(results)) from exc
    with handle:
        table = open_table(handle, name=str(results))
        keys = [key(column) for column in table.header]
        if "status" not in keys:
            raise InputError("not a results file (it has no `status` column)", where=str(results))
        at = keys.index("status")
        with open_private(out, "w", encoding="utf-8", newline="") as target:
            writer = csv.writer(target)
            writer.writerow(table.header)
            copied = unknown = 0
            for row in table.rows:
                status = row[at].strip().lower() if at < len(row) else ""
                if status in wanted:
                    writer.writerow(row)
                    copied += 1
                    unknown += status == "unknown"
    return copied, unknown
