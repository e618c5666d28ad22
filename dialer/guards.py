"""A campaign's guards, as plain functions beside the call logic: a spend cap and a failure guard.

- Spend cap (`--max-cost`): a create is made only while the carrier cost known so far plus the
  calls in progress and this one, each at the mean cost so far, stays within the cap. Once it
  would not, the campaign stops spending for good: every contact not dialled yet ends `expired`
  with the reason, as at a deadline, and calls in progress finish.
- Failure guard (`--pause-on-failures N/M`): when N of the campaign's last M ended calls (and
  refused creates) were `failed` or `error`, the campaign is paused with the reason; a person
  resumes it once the agent or carrier is fixed.
"""

from __future__ import annotations

import logging

from dialer.campaign import CampaignConfig
from dialer.run_options import parse_failure_guard
from dialer.store import ContactState, Store, campaign_key
from dialer.store import guards as counts

log = logging.getLogger("dialer.guards")

FAILED = frozenset({ContactState.FAILED, ContactState.ERROR})


def call_ended(
    store: Store,
    config: CampaignConfig,
    call_id: str,
    cost_cents: str,
    state: ContactState,
) -> None:
    """Count an ended call (`cost_cents`: '' when unreported); pause the campaign when the
    failure guard trips."""
    _count(store, config, call_id, cost_cents, failed=state in FAILED)


def create_refused(store: Store, config: CampaignConfig, attempt: str) -> None:
    """Count a create OneInbox refused (an `error`): no call, no cost, one failure."""
    _count(store, config, f"refused:{attempt}", counts.NO_CALL, failed=True)


def _count(store: Store, config: CampaignConfig, call_id: str, cost: str, *, failed: bool) -> None:
    guard = failure_guard(config)
    redis = store.redis
    ending = counts.record_ending(
        redis, config.campaign_id, call_id, cost_cents=cost, failed=failed, guard=guard
    )
    if ending.tripped and guard is not None:
        n, m = guard
        why = (
            f"paused: {n} of the last {m} calls failed or errored "
            "(is the agent or the carrier misconfigured?)"
        )
        store.abort(config.campaign_id, why)
        log.warning("campaign paused by its failure guard", extra={"campaign": config.campaign_id})


def failure_guard(config: CampaignConfig) -> tuple[int, int] | None:
    """The campaign's N/M, or None when it is off (a bad stored value turns it off)."""
    try:
        return parse_failure_guard(config.pause_on_failures)
    except ValueError:
        return None


def over_budget(store: Store, config: CampaignConfig) -> str:
    """'' while the campaign may make one more create; else why not (for good, once said)."""
    cap = config.max_cost_cents
    if cap is None:
        return ""
    redis = store.redis
    spent = counts.spend(redis, config.campaign_id)
    if spent.over:
        return spent.over
    calls = store.live_inflight(config.campaign_id) + 1
    projected = spent.known_cents + calls * spent.mean_cents
    if projected <= cap:
        return ""
    why = (
        f"the spend cap ${cap / 100:,.2f} was reached: ${spent.known_cents / 100:,.2f} known "
        f"and {calls} more call(s) at ${spent.mean_cents / 100:,.2f} would pass it"
    )
    if spent.unknown:
        why += f" (cost unknown for {spent.unknown} calls)"
    said = counts.stop_spending(redis, config.campaign_id, why)
    redis.hsetnx(campaign_key(config.campaign_id), "reason", said)
    log.warning("campaign reached its spend cap", extra={"campaign": config.campaign_id})
    return said
