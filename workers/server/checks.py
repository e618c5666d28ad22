"""The preflight of a campaign submitted over HTTP: the checks of `dialer run` (key, agent,
from-numbers, quota, countries) before anyone is dialled; a failure is a 422 naming the field
to fix, and nothing is stored."""

from __future__ import annotations

from pydantic import BaseModel

from campaigns.planning import RunPlan, open_path
from campaigns.preflight import Check, Level, check_account, check_countries, check_rows
from dialer.client import OneInboxClient
from dialer.http import make_http_client
from dialer.settings import Settings
from workers.server.errors import ApiError

FIELDS = {"agent": "agent_id", "from-number": "from_number"}
NO_KEY = "this server has no API key (its workers have it): key, agent, numbers, quota unchecked"


class CheckView(BaseModel):
    """One line of the preflight: ok, warn or fail, and why."""

    name: str
    level: str
    detail: str


def _numbers(chosen: RunPlan) -> tuple[list[str], set[str]]:
    """The list's valid phones, and the per-row from-numbers, read once more."""
    phones: list[str] = []
    own: set[str] = set()
    with open_path(chosen.source, chosen.load_options) as contact_file:
        for good, _ in contact_file.batches():
            for contact in good:
                phones.append(contact.phone_e164)
                if contact.from_number:
                    own.add(contact.from_number)
    return phones, own


def evaluate(settings: Settings, chosen: RunPlan) -> list[Check]:
    """Every check, failed ones included (the new-campaign page shows them all)."""
    if settings.api_key is None:
        return [Check("API key", Level.WARN, NO_KEY)]
    phones, own = _numbers(chosen)
    http = make_http_client(
        settings.base_url,
        settings.require_api_key(),
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    with http:
        client = OneInboxClient(http)
        checks = check_account(client, chosen.config, len(phones))
        _, unknown = check_rows(client, set(), own - {chosen.config.from_number})
    if unknown.numbers:  # the API refuses such a list whole (`dialer run` rejects those rows)
        listed = ", ".join(sorted(unknown.numbers))
        checks.append(
            Check("from-number", Level.FAIL, f"rows' {listed} not among your registered numbers")
        )
    if phones and not any(c.level is Level.FAIL for c in checks):
        checks.append(check_countries(chosen.config.from_number, phones))
    return checks


def run(settings: Settings, chosen: RunPlan) -> list[CheckView]:
    """Every check; ApiError 422 when one failed (its field named when it has one)."""
    checks = evaluate(settings, chosen)
    failed = [c for c in checks if c.level is Level.FAIL]
    if failed:
        raise ApiError(
            422,
            "preflight failed, nothing was dialled: " + "; ".join(_line(c) for c in failed),
            field=FIELDS.get(failed[0].name),
        )
    return [CheckView(name=c.name, level=c.level.value, detail=c.detail) for c in checks]


def _line(check: Check) -> str:
    return f"{check.name}: {check.detail}"
