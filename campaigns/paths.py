"""Whether an output file can be written, found by doing: the missing folders are made and a
temporary file is written beside it, then everything the check made is removed again (so a
`check` or a dry run leaves nothing behind)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from campaigns.checks import Check, Level


def try_writing(path: Path) -> str:
    """'' when `path` can be written, else why not (naming the path) and what to do."""
    if path.is_dir():
        return f"{path} is a folder: give a file name (--results/--rejects)"
    existing = next(p for p in path.parents if p.exists())
    if not existing.is_dir():
        return f"{existing} is a file, not a folder: choose another path for {path.name}"
    made: list[Path] = []
    try:
        for folder in reversed(path.parents):
            if not folder.exists():
                folder.mkdir()
                made.append(folder)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".dialer-check-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return f"{path} cannot be written ({reason}): choose another path"
    finally:
        for folder in reversed(made):
            os.rmdir(folder)
    return ""


def check_outputs(results: Path, rejects: Path) -> list[Check]:
    """The results and rejects files, each checked by writing beside it."""
    found = []
    for name, path in (("results file", results), ("rejects file", rejects)):
        problem = try_writing(path)
        found.append(
            Check(name, Level.FAIL if problem else Level.OK, problem or f"{path} can be written")
        )
    return found
