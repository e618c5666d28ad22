"""Imports every command module so that each registers itself on the app."""

from __future__ import annotations

# One import per command module; keep alphabetical.
from workers.cli import simulator  # noqa: F401
