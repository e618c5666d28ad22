"""`dialer run`'s live view while its list loads: it starts once the campaign dials, says how
many rows were read, and never says `done` while more rows may come (a real Redis; the
console writes to a string)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from rich.console import Console

from campaigns import lifecycle
from campaigns.lifecycle import Reading
from campaigns.model import Contact
from campaigns.progress import Progress
from dialer.campaign import CampaignConfig, CampaignState
from dialer.store import Store
from workers.cli import display

CONFIG = CampaignConfig(
    campaign_id="view", agent_id="a", from_number="+14155550100", window="always"
)


@pytest.fixture
def store(redis_url: str) -> Iterator[Store]:
    opened = Store.from_url(redis_url)
    yield opened
    opened.redis.close()


def _plain() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=300), out


def test_the_view_starts_once_the_campaign_dials_and_says_how_far_the_list_is(
    store: Store,
) -> None:
    lifecycle.submit(store, CONFIG, [[Contact(2, "+14155550111", {})]])
    console, out = _plain()
    with display.LiveView(console, store, CONFIG, every_s=0) as view:
        view.loading(Reading(rows=40, dialling=False))
        assert out.getvalue() == ""  # nothing dials yet: nothing to follow
        view.loading(Reading(rows=60, dialling=True))
    (line,) = out.getvalue().splitlines()
    assert "view paused: loading the list: 60 rows read so far, dialled 0/1" in line


def test_a_campaign_whose_stored_contacts_all_ended_is_running_while_its_list_loads() -> None:
    settled = Progress(CampaignState.RUNNING, 5, {"completed": 5})
    assert display.line(settled, CONFIG).split()[1:3] == ["view", "done:"]
    assert display.line(settled, CONFIG, 12).split()[1:3] == ["view", "running:"]
    shown = dict(display.figures(settled, CONFIG, 12))
    assert shown["list"] == "loading the list: 12 rows read so far"
    assert "list" not in dict(display.figures(settled, CONFIG))
    console = Console(record=True, width=100)
    console.print(display.progress_table(settled, CONFIG, 12))
    assert "(running)" in console.export_text() and "(done)" not in console.export_text()
