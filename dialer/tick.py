"""The tick: once a fraction of a second, turn what is due in Redis into tasks.

One process at a time holds the tick lease, whatever the number of workers. The tick enqueues
only about half a second's worth of dials (never more than the free concurrency slots), so the
broker queue stays short; the claim gate inside each dial remains the hard guarantee of pace
and concurrency. It also re-enqueues work whose message was lost, which is what makes a killed
worker or a dropped message harmless.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from dialer.campaign import CampaignState
from dialer.pace import SEND_AHEAD_S
from dialer.policy import Timing
from dialer.store import LIVE_STATES, Store

Enqueue = Callable[[str, list[int]], None]  # one task for these rows of the campaign
Finished = Callable[[str], None]
MAX_FOLLOW_PER_TICK = 500
# Up to this many tasks of each kind per tick: at low volume one contact per task; at high
# volume contacts share tasks, so that Celery's cost per task is spread over several contacts.
TASKS_PER_TICK = 16
# A follow-up task takes at least this many rows when that many are due: each task costs the
# broker about ten Redis commands and the worker about 0.8 ms, while a poll costs one GET (eight
# polls of a slow provider, 300 ms each, are still far inside the follow-up's lease).
MIN_FOLLOW_ROWS = 8
# Dials get more: a task sends its rows one after the other, so a slow create holds up the rows
# behind it in the same task (their slots go unused). Up to 64 dials a tick go one per task.
DIAL_TASKS_PER_TICK = 64


def tick(
    store: Store,
    dial: Enqueue,
    follow: Enqueue,
    timing: Timing,
    finished: Finished | None = None,
    only: str = "",
) -> None:
    """Serve every active campaign once (only campaign `only` when it is given: the embedded
    worker of a `dialer run` leaves other campaigns to their own runs); `finished(cid)` is
    called as each one ends."""
    for cid in store.active_campaigns():
        if only and cid != only:
            continue
        if tick_campaign(store, cid, dial, follow, timing) and finished is not None:
            finished(cid)


def tick_campaign(store: Store, cid: str, dial: Enqueue, follow: Enqueue, timing: Timing) -> bool:
    """Enqueue the campaign's due dials and follow-ups; close it once every contact is final
    (True then)."""
    state = store.campaign_state(cid)
    max_dial = _dial_budget(store, cid) if state is CampaignState.RUNNING else 0
    to_dial, to_follow = store.pump(
        cid,
        max_dial=max_dial,
        requeue_after_ms=round(timing.requeue_s * 1000),
        max_follow=MAX_FOLLOW_PER_TICK,
        follow_lease_ms=round(timing.follow_lease_s * 1000),
    )
    for rows in chunks(to_dial, DIAL_TASKS_PER_TICK):
        dial(cid, rows)
    for rows in chunks(to_follow, min(TASKS_PER_TICK, -(-len(to_follow) // MIN_FOLLOW_ROWS))):
        follow(cid, rows)
    finished = not _live(store, cid) and not store.loading(cid)  # more may be on their way
    if finished and state in (CampaignState.RUNNING, CampaignState.PAUSED):
        store.set_campaign_state(cid, CampaignState.DONE)
    elif finished:
        store.retire(cid)
    return finished


def chunks(rows: list[int], parts: int) -> list[list[int]]:
    """`rows` split into at most `parts` lists of nearly equal size, in order."""
    if not rows:
        return []
    size = math.ceil(len(rows) / parts)
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _dial_budget(store: Store, cid: str) -> int:
    config = store.campaign(cid)
    queued = store.queued_count(cid)
    free = config.max_concurrent - store.live_inflight(cid) - queued
    room = max(0.0, SEND_AHEAD_S - store.pace_backlog_s(cid))  # send slots not yet reserved
    ahead = math.ceil(config.rate_per_s * room) + 1 - queued
    return max(0, min(free, ahead, _account_budget(store, cid) - queued))


def _account_budget(store: Store, cid: str) -> int:
    """Dials the campaign's account has room for now (its limits set in Redis), all its
    campaigns together; the claim holds the account's limits whatever this says."""
    account = store.account_of(cid)
    limits = store.limits(account)
    budget = 1 << 30
    if limits.max_concurrent is not None:
        budget = limits.max_concurrent - store.account_inflight(account)
    if limits.rate_per_s is not None:
        room = max(0.0, SEND_AHEAD_S - store.account_backlog_s(account))
        budget = min(budget, math.ceil(limits.rate_per_s * room) + 1)
    return budget


def _live(store: Store, cid: str) -> bool:
    counts = store.counts(cid)
    return any(counts.get(state.value, 0) > 0 for state in LIVE_STATES)
