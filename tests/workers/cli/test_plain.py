"""Tables without a terminal: one whole line a row, each carrying what its row holds."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

from workers.cli import commands  # noqa: F401  (registers the commands)
from workers.cli.app import app
from workers.cli.plain import print_table

runner = CliRunner()


def _plain(table: Table) -> list[str]:
    out = io.StringIO()
    print_table(Console(file=out, force_terminal=False, width=40), table)
    return out.getvalue().splitlines()


def test_a_grouped_tables_continuation_lines_carry_their_group_and_no_empty_label() -> None:
    table = Table(title="Rejects by reason")
    for name in ("reason", "rows", "example row", "detail"):
        table.add_column(name)
    table.add_row("not_a_number", "2", "4", "column 'phone': not a number")
    table.add_row("", "", "7", "")
    table.add_row("duplicate", "1", "9", "same number as row 2")
    assert _plain(table) == [
        "Rejects by reason",
        "  reason: not_a_number; rows: 2; example row: 4; detail: column 'phone': not a number",
        "  reason: not_a_number; example row: 7",
        "  reason: duplicate; rows: 1; example row: 9; detail: same number as row 2",
    ]


def test_validate_without_a_terminal_names_each_example_rows_reason(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("phone\n+14155550101\nn/a\nnope\n+14155550101\n", encoding="utf-8")
    done = runner.invoke(app, ["validate", str(path)], env={"COLUMNS": "40"})
    assert done.exit_code == 1, done.output  # rows to fix
    lines = [line for line in done.output.splitlines() if "example row:" in line]
    assert [line.split(";")[0].strip() for line in lines] == [
        "reason: not_a_number",
        "reason: not_a_number",
        "reason: duplicate",
    ], done.output
    assert "example row: 4;" in lines[1]  # the spreadsheet's row of `nope`
    assert ": ;" not in done.output and not done.output.rstrip().endswith(":")
