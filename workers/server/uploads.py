"""Uploaded lists: streamed to the state folder (mode 0600) under a size limit.

A list is known by its file name within the server: it is kept at `uploads/<name>`, so the same
name uploaded again is the same list, and the rules of running a list again apply to it. While
it arrives it is `.<name>.<random>.part`: removed when the request ends however it ends, and
any left by a server that was stopped mid-upload are swept when the next one starts.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from fastapi import UploadFile

from workers.server.errors import ApiError

CHUNK = 1 << 20
FORM_ROOM = 64 * 1024  # the form fields and part headers around the file
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def list_name(filename: str | None) -> str:
    """The name an uploaded file is kept under: its base name, made safe for a path."""
    base = PurePosixPath((filename or "").replace("\\", "/")).name
    clean = _UNSAFE.sub("-", base).lstrip(".-")[:120]
    if not clean:
        raise ApiError(422, "the uploaded file has no usable name (like leads.csv)", field="file")
    return clean


async def receive(upload: UploadFile, folder: Path, limit: int) -> Path:
    """Stream the upload to a private temporary file in `folder`; 413 past `limit` bytes."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = list_name(upload.filename)
    part = folder / f".{name}.{uuid.uuid4().hex[:8]}.part"
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ApiError(413, _too_large(name, limit), field="file")
                out.write(chunk)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return part


def _too_large(name: str, limit: int) -> str:
    return (
        f"{name} is larger than the server's upload limit of {limit / (1 << 20):g} MB "
        "(DIALER_MAX_UPLOAD_MB); split the list, or raise the limit"
    )


def keep(part: Path, folder: Path, filename: str | None) -> Path:
    """Move a received upload to its stable place, `folder/<name>`."""
    target = folder / list_name(filename)
    os.replace(part, target)
    return target


@contextlib.contextmanager
def discarded(part: Path) -> Iterator[Path]:
    """A received upload, removed when the block ends (an inspection keeps nothing)."""
    try:
        yield part
    finally:
        part.unlink(missing_ok=True)


def sweep(folder: Path) -> int:
    """Remove the partial uploads a stopped server left in `folder`; how many there were."""
    found = list(folder.glob(".*.part")) if folder.is_dir() else []
    for part in found:
        part.unlink(missing_ok=True)
    return len(found)


def content_length_ok(header: str | None, limit: int) -> bool:
    """False when the request says it is larger than the limit (plus room for the form)."""
    return header is None or (header.isdigit() and int(header) <= limit + FORM_ROOM)
