"""The tick (dialer.tick) on a real Redis: what it enqueues, how much, and when it closes a
campaign. Tasks are recorded, not run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from dialer.pace import Pace
from dialer.policy import Timing
from dialer.store import ContactState, Store
from dialer.tick import tick

COLUMNS = ("phone",)
TIMING = Timing(requeue_s=60, follow_lease_s=60)


class Tasks:
    """What a tick enqueued: dial and follow-up tasks, and the campaigns it finished."""

    def __init__(self) -> None:
        self.dial: list[tuple[str, list[int]]] = []
        self.follow: list[tuple[str, list[int]]] = []
        self.finished: list[str] = []

    def run(self, store: Store) -> Tasks:
        """One tick; returns what it enqueued (and forgets earlier ticks')."""
        self.dial, self.follow, self.finished = [], [], []
        tick(
            store,
            lambda cid, rows: self.dial.append((cid, rows)),
            lambda cid, rows: self.follow.append((cid, rows)),
            TIMING,
            finished=self.finished.append,
        )
        return self

    def dialled(self) -> list[int]:
        return sorted(row for _, rows in self.dial for row in rows)

    def followed(self) -> list[int]:
        return sorted(row for _, rows in self.follow for row in rows)


@pytest.fixture
def store(redis_url: str) -> Iterator[Store]:
    store = Store.from_url(redis_url)
    yield store
    store.redis.close()


def _campaign(store: Store, n: int, state: CampaignState = CampaignState.RUNNING, **kw: Any) -> str:
    config = CampaignConfig(
        campaign_id="c", agent_id="a", from_number="+14155550100", columns=COLUMNS, **kw
    )
    store.create_campaign(config)
    contacts = [Contact(r, f"+1415555{r:04d}", {"phone": ""}) for r in range(1, n + 1)]
    store.add_contacts("c", contacts, COLUMNS)
    store.set_campaign_state("c", state)
    return "c"


def _placed(store: Store, row: int) -> None:
    """The contact's call is placed and its first follow-up due now."""
    claim = store.claim(
        "c", row, pace=Pace(interval_s=1e-6), max_concurrent=1000, lease_s=60, stuck_s=60
    )
    assert claim.won
    left = store.transition("c", row, ContactState.PLACED, lease_ms=60_000, watch_in_ms=0)
    assert left is ContactState.DIALING


def _ended(store: Store, row: int, end: ContactState = ContactState.COMPLETED) -> None:
    _placed(store, row)
    assert store.transition("c", row, end) is ContactState.PLACED


def test_dials_are_enqueued_up_to_the_free_concurrency_slots(store: Store) -> None:
    _campaign(store, 10, rate_per_s=1000, max_concurrent=3)
    tasks = Tasks()
    assert len(tasks.run(store).dialled()) == 3
    assert tasks.run(store).dialled() == []  # the three are queued: no slot is free
    assert tasks.finished == []


def test_dials_are_enqueued_about_half_a_second_ahead_at_the_rate(store: Store) -> None:
    _campaign(store, 10, rate_per_s=4, max_concurrent=50)
    tasks = Tasks()
    assert len(tasks.run(store).dialled()) == 3  # 4/s for half a second, and one more
    assert tasks.run(store).dialled() == []  # those are still queued


def test_contacts_not_yet_due_are_not_dialled(store: Store) -> None:
    config = CampaignConfig(
        campaign_id="c", agent_id="a", from_number="+14155550100", columns=COLUMNS
    )
    store.create_campaign(config)
    later = store.server_ms() + 3_600_000
    contacts = [Contact(r, f"+1415555{r:04d}", {"phone": ""}) for r in (1, 2)]
    store.add_contacts("c", contacts, COLUMNS, lambda c: (later if c.source_row == 2 else 0, ""))
    store.set_campaign_state("c", CampaignState.RUNNING)
    tasks = Tasks().run(store)
    assert tasks.dialled() == [1]
    assert tasks.finished == [] and store.campaign_state("c") is CampaignState.RUNNING


def test_a_paused_campaign_dials_nobody_but_its_calls_are_still_followed(store: Store) -> None:
    _campaign(store, 3)
    _placed(store, 2)
    store.set_campaign_state("c", CampaignState.PAUSED)
    tasks = Tasks().run(store)
    assert tasks.dialled() == []
    assert tasks.followed() == [2]


def test_a_follow_up_is_enqueued_when_due_and_not_again_within_its_lease(store: Store) -> None:
    _campaign(store, 3, max_concurrent=1)
    _placed(store, 1)
    tasks = Tasks()
    assert (tasks.run(store).followed(), tasks.dialled()) == ([1], [])  # the one slot is held
    assert tasks.run(store).followed() == []  # its task has it for follow_lease_s


def test_a_campaign_is_closed_once_every_contact_is_final(store: Store) -> None:
    _campaign(store, 2)
    _ended(store, 1)
    _placed(store, 2)
    tasks = Tasks()
    assert tasks.run(store).finished == []  # row 2 is still live
    assert store.transition("c", 2, ContactState.VOICEMAIL) is ContactState.PLACED
    assert tasks.run(store).finished == ["c"]
    assert store.campaign_state("c") is CampaignState.DONE
    assert store.active_campaigns() == []
    assert tasks.run(store).finished == []  # closed once


def test_a_cancelled_campaign_is_retired_when_its_last_call_ends(store: Store) -> None:
    _campaign(store, 1)
    _placed(store, 1)
    store.set_campaign_state("c", CampaignState.CANCELED)
    tasks = Tasks()
    assert tasks.run(store).followed() == [1] and tasks.finished == []
    assert store.transition("c", 1, ContactState.NO_ANSWER) is ContactState.PLACED
    assert tasks.run(store).finished == ["c"]
    assert store.campaign_state("c") is CampaignState.CANCELED  # not made "done"
    assert store.active_campaigns() == []


@pytest.mark.parametrize(
    ("due", "tasks_wanted"), [(1, 1), (3, 1), (8, 1), (9, 2), (40, 5), (200, 16)]
)
def test_follow_ups_share_tasks_of_at_least_eight_rows(
    store: Store, due: int, tasks_wanted: int
) -> None:
    """Each task costs the broker about ten Redis commands: few due follow-ups go in one task,
    many in at most 16, and every due one is enqueued once."""
    _campaign(store, due)
    for row in range(1, due + 1):
        _placed(store, row)
    store.set_campaign_state("c", CampaignState.PAUSED)  # nothing to dial: follow-ups only
    tasks = Tasks()
    assert tasks.run(store).followed() == list(range(1, due + 1))
    assert len(tasks.follow) == tasks_wanted
