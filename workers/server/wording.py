"""The dialer's messages worded for the API and the pages: they are written for the command
line, so they name options (`--phone-column NAME`) and paths; a browser or an API client knows
form fields and the file it sent. Only the wording changes here: an error's status and field
come from the error itself (workers/server/errors.py), never from its text."""

from __future__ import annotations

import re

_OPTION = re.compile(r"(?<![\w-])--(no-)?([a-z][a-z0-9]*(?:-[a-z0-9]+)*)(?: NAME\b)?")
_FOLDERS = re.compile(r"(?<![\w:/.~])/(?:[^\s'\"/]+/)+")  # an absolute path up to its file
_STAGED = re.compile(r"(?<![\w.])\.[0-9a-f]{8}\.(?=\S)")  # `lists.stage`'s hidden name
_PART = re.compile(r"(?<![\w.])\.(\S+?)\.[0-9a-f]{8}\.part\b")  # `uploads.receive`'s


def _field(option: re.Match[str]) -> str:
    name = option[2].replace("-", "_")
    return f"{name}=false" if option[1] else name


def for_http(text: str) -> str:
    """A message of the dialer's worded for the API and the pages: options named by their form
    field (`--phone-column NAME` is `phone_column`), server paths by the file's name."""
    text = _OPTION.sub(_field, text)
    text = _FOLDERS.sub("", text)
    text = _PART.sub(r"\1", text)
    return _STAGED.sub("", text)
