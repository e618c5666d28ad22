"""Values from outside, echoed in a message: quoted and cut short, never a huge input whole."""

from __future__ import annotations

LIMIT = 60  # characters of a value shown in a message


def shown(value: object, limit: int = LIMIT) -> str:
    """`value` as `repr` shows it, cut to about `limit` characters (`'...'` marks the cut)."""
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "...")
