"""Tables on a terminal, whole lines everywhere else.

A rich table wraps and cuts its cells to the terminal's width; piped into a file or another
program that width is a guess (80, or `COLUMNS`), and a long path or error would be broken
across lines or cut. Without a terminal, `print_table` writes each row as one line of
`header: value` pairs instead, so what is read is what was meant, whatever `COLUMNS` says.

A line carries only what its row holds: an empty cell gives no `header:` pair. A table grouped
by its first column (the rejects by reason) leaves that cell blank under a group's first row,
which a reader of the table sees as "the same"; its line repeats the group's label instead.
"""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text


def print_table(console: Console, table: Table) -> None:
    """`table` as a table on a terminal, else as plain lines: its title, then a row a line."""
    if console.is_terminal:
        console.print(table)
        return
    if table.title:
        _line(console, _plain(table.title))
    headers = [_plain(column.header) for column in table.columns]
    above = ""
    for row in zip(*(list(column.cells) for column in table.columns), strict=True):
        cells = [_plain(cell) for cell in row]
        if table.show_header:
            cells[0] = above = cells[0] or above
            pairs = zip(headers, cells, strict=True)
            _line(console, "  " + "; ".join(f"{h}: {c}" for h, c in pairs if c))
        else:
            _line(console, "  " + ": ".join(c for c in cells if c))


def _line(console: Console, text: str) -> None:
    console.print(text, soft_wrap=True, markup=False, highlight=False, emoji=False)


def _plain(cell: RenderableType | str) -> str:
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return str(cell)
