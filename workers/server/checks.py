"""The preflight as the server shows it (the checks are `campaigns/preflight.py`'s): each
check a `CheckView`; a failure is a 422 naming the field to fix, and nothing is stored."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from campaigns.checks import Check, Level
from workers.server.errors import ApiError
from workers.server.wording import for_http

FIELDS = {"agent": "agent_id", "from-number": "from_number"}


class CheckView(BaseModel):
    """One line of the preflight: ok, warn or fail, and why."""

    name: str
    level: str
    detail: str


def views(found: Iterable[Check]) -> list[CheckView]:
    """The checks as the API returns them."""
    return [CheckView(name=c.name, level=c.level.value, detail=for_http(c.detail)) for c in found]


def refused(found: Iterable[Check]) -> ApiError | None:
    """The 422 of a failed preflight (its field named when it has one); None when none failed."""
    failed = [c for c in found if c.level is Level.FAIL]
    if not failed:
        return None
    return ApiError(
        422,
        "preflight failed, nothing was dialled: " + "; ".join(_line(c) for c in failed),
        field=FIELDS.get(failed[0].name),
    )


def _line(check: Check) -> str:
    return f"{check.name}: {check.detail}"
