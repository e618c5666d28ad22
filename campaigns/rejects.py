"""The rejects file: one line per row that will not be dialled, saying why."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from campaigns.excel import CsvStyle, csv_writer
from campaigns.model import Reject
from campaigns.results import neutralise

REJECT_COLUMNS = ("source_row", "phone", "reason", "detail")


def write_rejects(rejects: Iterable[Reject], out: TextIO, style: CsvStyle | None = None) -> int:
    """Write `rejects` as CSV (`source_row`, `phone`, `reason`, `detail`); return how many.

    `source_row` is the row a spreadsheet shows (a CSV's header is row 1, so its first contact
    is row 2; a workbook's rows as Excel numbers them). Open `out` as UTF-8 with
    `newline=""`; `style` (by default a byte-order mark and `,`) as `campaigns.excel` says.
    Cells a spreadsheet would run as a formula get a leading `'`, as in the results file.
    """
    writer = csv_writer(out, style or CsvStyle())
    writer.writerow(REJECT_COLUMNS)
    count = 0
    for reject in rejects:
        phone, detail = neutralise(reject.phone), neutralise(reject.detail)
        writer.writerow((reject.source_row, phone, reject.reason.value, detail))
        count += 1
    return count
