"""Where an uploaded list is kept: an upload is not an identity.

Each campaign keeps its own copy of its list at `uploads/<campaign id>/<file name>`, and each
schedule made over HTTP at `uploads/schedules/<job>-<8 hex>/<file name>` (files 0600, folders
0700). Two uploads of the same name are two lists. A received upload waits beside its place,
under a hidden name, and takes its place only once what it was for has succeeded: a refused
upload changes nothing stored.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

from dialer.private import private_dir
from dialer.store import Store
from workers.server import uploads

SCHEDULES = "schedules"


def new_campaign_id(store: Store, name: str) -> str:
    """A campaign id no campaign has: the list's stem and 8 random hex."""
    given = Path(name).stem
    stem = "".join(c if c.isalnum() or c in "._-" else "-" for c in given)[:40] or "contacts"
    while True:
        cid = f"{stem}-{uuid.uuid4().hex[:8]}"
        if store.campaign_state(cid) is None:
            return cid


def campaign_list(uploads_dir: Path, store: Store, cid: str, name: str) -> Path:
    """Where campaign `cid` keeps its list: the copy it has already (a resumed campaign's,
    whatever the new upload is named), else `uploads/<cid>/<name>`."""
    own = uploads_dir / cid
    if store.campaign_state(cid) is not None:
        stored = Path(store.campaign(cid).source)
        if stored.parent == own.resolve():
            return stored
    return own / name


def stage(part: Path, target: Path) -> Path:
    """Move a received upload beside `target` under a hidden name that keeps its suffix
    (read as `target` would be); `target` itself is untouched."""
    private_dir(target.parent)
    staged = target.parent / f".{uuid.uuid4().hex[:8]}.{target.name}"
    os.replace(part, staged)
    return staged


def settle(staged: Path, target: Path) -> None:
    """The staged upload takes its place."""
    os.replace(staged, target)


def discard(staged: Path) -> None:
    """Remove a staged upload, and its folder when nothing else is in it."""
    staged.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # the folder keeps a list already
        staged.parent.rmdir()


def sweep(uploads_dir: Path) -> int:
    """Remove the staged uploads a stopped server left beside campaigns' lists; how many."""
    found = list(uploads_dir.glob("*/.*")) if uploads_dir.is_dir() else []
    for staged in found:
        if staged.is_file():
            staged.unlink(missing_ok=True)
    return len(found)


def schedule_list(uploads_dir: Path, job: str, filename: str | None) -> Path:
    """A new place for a schedule's own copy of its list (a fresh folder per save)."""
    name = uploads.list_name(filename)
    return uploads_dir / SCHEDULES / f"{job}-{uuid.uuid4().hex[:8]}" / name


def forget_schedule_list(uploads_dir: Path, contacts: str) -> None:
    """Remove a schedule's copy of its list, when it is one (a CLI job's path stays)."""
    folder = Path(contacts).parent
    if folder.parent == (uploads_dir / SCHEDULES).resolve():
        shutil.rmtree(folder, ignore_errors=True)


def forget_campaign_list(uploads_dir: Path, cid: str, source: Path) -> None:
    """Remove a deleted campaign's own copy of its list (its folder)."""
    own = uploads_dir / cid
    if source.parent == own.resolve():
        shutil.rmtree(own, ignore_errors=True)
