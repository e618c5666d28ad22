"""Personal data and the API key stay with the user who runs the dialer.

Results, rejects, exports, reports, logs and the state folder hold phone numbers, names and
transcripts: they are created readable by their owner only (files 0600, folders 0700), whatever
the umask was. A process that holds the API key never writes a core dump (it would hold the key
and every contact in memory at the time).
"""

from __future__ import annotations

import contextlib
import os
import resource
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, TextIO, overload

FILE_MODE = 0o600
DIR_MODE = 0o700
UMASK = 0o077


def protect_process() -> None:
    """From now on this process and its children create private files and dump no core."""
    os.umask(UMASK)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def private_dir(path: Path) -> Path:
    """`path` as a folder, created 0700 (its missing parents too) if it did not exist."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        folder.chmod(DIR_MODE)  # mkdir's mode is cut by the umask
    return path


@overload
def open_private(path: Path, mode: Literal["w", "a"] = "w", **kwargs: Any) -> TextIO: ...
@overload
def open_private(path: Path, mode: Literal["wb", "ab"], **kwargs: Any) -> BinaryIO: ...


def open_private(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """Open `path` for writing ("w", "a", "wb" or "ab"), the file made 0600 even if it was
    there before with a wider mode."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        with contextlib.suppress(PermissionError):  # someone else's file: their mode stays
            os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise
