"""The preflight's path check is done by writing: it finds what `os.access` cannot (a folder
replaced by a file, /proc) and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

from campaigns.checks import Level
from campaigns.paths import check_outputs, try_writing


def test_missing_folders_are_made_then_removed(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.csv"
    assert try_writing(target) == ""
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_an_existing_folder_keeps_its_files_and_gets_no_new_one(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    assert try_writing(tmp_path / "out.csv") == ""
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_a_folder_replaced_by_a_file_is_refused_with_the_path_and_reason(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("a file where a folder should be")
    said = try_writing(tmp_path / "out" / "results.csv")
    assert (
        said == f"{tmp_path / 'out'} is a file, not a folder: choose another path for results.csv"
    )


def test_proc_is_refused() -> None:
    assert "cannot be written" in try_writing(Path("/proc/no-such-dir/out.csv"))


def test_a_folder_given_as_the_file_is_refused(tmp_path: Path) -> None:
    assert "is a folder" in try_writing(tmp_path)


def test_both_outputs_are_checked(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    found = check_outputs(tmp_path / "r.csv", tmp_path / "f" / "rejects.csv")
    assert [(c.name, c.level) for c in found] == [
        ("results file", Level.OK),
        ("rejects file", Level.FAIL),
    ]
