"""Choosing contacts to dial again: the rows of a results file that ended with given statuses.

Shared by `dialer retry` and the server's POST /api/campaigns/{id}/retry.
"""

from __future__ import annotations

import csv
from pathlib import Path

from dialer.errors import InputError
from dialer.private import open_private

RETRYABLE = ("completed", "voicemail", "no_answer", "failed", "error", "canceled", "expired")


def select_rows(results: Path, statuses: set[str], out: Path) -> tuple[int, int]:
    """Copy the rows of `results` whose status is in `statuses` to `out`, every column kept.

    Returns (rows copied, rows with status unknown among them).
    """
    try:
        handle = results.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", where=str(results)) from exc
    with handle, open_private(out, "w", encoding="utf-8", newline="") as target:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "status" not in reader.fieldnames:
            raise InputError("not a results file (it has no `status` column)", where=str(results))
        writer = csv.DictWriter(target, fieldnames=reader.fieldnames)
        writer.writeheader()
        copied = unknown = 0
        for row in reader:
            if row.get("status") in statuses:
                writer.writerow(row)
                copied += 1
                unknown += row.get("status") == "unknown"
    return copied, unknown
