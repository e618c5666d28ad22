"""`dialer validate`: the report, the rejects file and the exit codes."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from dialer.errors import InputError
from workers.cli import commands  # noqa: F401  (registers the commands)
from workers.cli.app import app

DATA = Path(__file__).resolve().parents[2] / "data"
runner = CliRunner()


def test_validate_reports_and_writes_rejects_beside_the_input(tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    shutil.copy(DATA / "excel_bom_semicolon.csv", source)
    result = runner.invoke(app, ["validate", str(source)], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output  # rows to fix
    assert "3 contacts to dial, 5 rejected, 1 blank rows skipped" in result.output
    assert "semicolon-separated" in result.output
    assert "precision_lost" in result.output and "duplicate" in result.output
    assert "First Name" in result.output and "variable" in result.output
    with (tmp_path / "export.rejects.csv").open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))  # the list's `;`, kept for Excel
    assert [(r["source_row"], r["reason"]) for r in rows] == [
        ("2", "malformed_row"),
        ("3", "precision_lost"),
        ("6", "malformed_row"),
        ("9", "not_a_number"),
        ("10", "duplicate"),
    ]
    assert rows[1]["phone"] == "4.15555E+10"


def test_validate_with_options(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    args = ["validate", str(DATA / "utf16_tab.csv"), "--default-region", "gb",
            "--rejects", str(out), "--dnc", str(DATA / "dnc.txt"),
            "--variables", "First Name"]  # fmt: skip
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output  # both numbers are on the do-not-call list
    assert "No valid contact" in result.output
    assert out.read_text(encoding="utf-8-sig").count(",dnc,") == 2


def test_validate_exits_1_when_no_contact_is_valid(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    result = runner.invoke(app, ["validate", str(DATA / "header_only.csv"), "--rejects", str(out)])
    assert result.exit_code == 1
    assert out.read_text(encoding="utf-8-sig").strip() == "source_row,phone,reason,detail"


def test_validate_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    for name in ("missing.csv", "fake.pdf.csv", "no_phone_column.csv"):
        result = runner.invoke(
            app, ["validate", str(DATA / name), "--rejects", str(tmp_path / "r")]
        )
        assert isinstance(result.exception, InputError), name
        assert name in str(result.exception)


def test_validate_command_line_prints_a_message_and_exits_2(tmp_path: Path) -> None:
    # A path longer than a terminal line, with brackets rich would read as markup: the message
    # reaches a pipe whole, on one line, as it was written.
    deep = tmp_path / "campaigns [draft]" / ("spring_outreach_" * 3) / "lists"
    deep.mkdir(parents=True)
    source = deep / "binary.csv"
    source.write_bytes((DATA / "binary.csv").read_bytes())
    assert len(str(source)) > 100
    dialer = Path(sys.executable).with_name("dialer")
    done = subprocess.run(
        [str(dialer), "validate", str(source), "--rejects", str(tmp_path / "r")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines()[0].startswith(f"error: {source}: this is a binary file, not")
    assert "Traceback" not in done.stderr


def test_a_carriage_return_in_a_quoted_cell_is_read_without_a_traceback(tmp_path: Path) -> None:
    for content in (b'phone,"a\rb"\n+14155550100,x\n', b'phone,name\n+14155550100,"a\rb"\n'):
        source = tmp_path / "cr.csv"
        source.write_bytes(content)
        result = runner.invoke(app, ["validate", str(source), "--rejects", str(tmp_path / "r")])
        assert result.exit_code == 0, result.output
        assert "+14155550100" in result.output


def test_validate_shows_variables_renamed_and_refuses_a_collision(tmp_path: Path) -> None:
    source = tmp_path / "leads.csv"
    source.write_text("phone,First Name,Email\n+14155550100,Ann,ann@x.io\n", encoding="utf-8")
    renamed = ["validate", str(source), "--rename", "First Name=first_name", "--rename", "email=e"]
    result = runner.invoke(app, renamed, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    first = result.output.split("First contacts", 1)[1]
    assert "first_name: Ann; e: ann@x.io" in first
    clash = runner.invoke(app, ["validate", str(source), "--rename", "First Name=Email"])
    assert isinstance(clash.exception, InputError)
    assert "--rename: 'First Name' and 'Email' would both reach the agent as 'Email'" in str(
        clash.exception
    )
