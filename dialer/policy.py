"""Pure decisions: what a provider call means for the contact, and when to look again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dialer.campaign import CampaignConfig
from dialer.models import status_word
from dialer.store.contact import ContactRecord, ContactState

# Seconds between polls of a placed call: quick at first (short calls and failures end fast),
# then a steady interval. Webhooks, when they arrive, bring the next poll forward.
POLL_SCHEDULE_S = (1.0, 2.0, 3.0, 5.0, 8.0, 10.0, 15.0)


@dataclass(frozen=True)
class Timing:
    """The dispatcher's time limits, in seconds. Tests shrink them; defaults suit real calls."""

    lease_s: float = 120.0  # a concurrency slot is held this long without news of the call
    stuck_s: float = 45.0  # a create still unanswered after this is reconciled
    requeue_s: float = 30.0  # a dial task not started after this was lost: enqueue again
    follow_lease_s: float = 30.0  # a follow-up task not done after this was lost: do it again
    # A create not listed this long after it was sent never landed: longer than the 2 minutes
    # a provider may take to create a call it held past the client's timeout.
    reconcile_grace_s: float = 150.0
    reconcile_limit_s: float = 600.0  # reconciliation that cannot finish by then: unknown
    reconcile_margin_s: float = 120.0  # the call list is searched back to the claim minus this
    post_call_wait_s: float = 20.0  # how long a final call may lack its transcript and summary
    poll_scale: float = 1.0  # multiplies POLL_SCHEDULE_S


def next_poll_s(polls_done: int, timing: Timing) -> float:
    """Delay before the next poll of a call that has been polled `polls_done` times."""
    step = POLL_SCHEDULE_S[min(polls_done, len(POLL_SCHEDULE_S) - 1)]
    return step * timing.poll_scale


# Provider status words (as `status_word` spells them) that end a call, beyond the two documented
# ones: a busy line or nobody answering ends the contact like "Not Connected" (and is retried like
# it); a call cancelled before it connected is a failed attempt.
_ENDED_AS = {
    "busy": ContactState.NO_ANSWER,
    "no_answer": ContactState.NO_ANSWER,
    "canceled": ContactState.FAILED,
    "cancelled": ContactState.FAILED,
    "failed": ContactState.FAILED,
}
LIVE_STATUSES = frozenset({"queued", "initiated", "ringing", "in_progress"})


def final_state(
    status: str, outcome: str | None, *, ended: bool = False, duration_s: float | None = None
) -> ContactState | None:
    """The contact's final state for a provider status and outcome; None while the call lives.

    Statuses are read leniently (any case, `-` or `_`). completed + Voicemail -> voicemail;
    completed + Not Connected -> no_answer; other completed -> completed; failed, canceled ->
    failed; busy, no-answer -> no_answer. Any other status is final once the call has `ended`
    (an `ended_at`): completed when it lasted more than 0 s, else failed.
    """
    word = status_word(status)
    if word == "completed":
        return _completed(outcome)
    if word in _ENDED_AS:
        return _ENDED_AS[word]
    if word in LIVE_STATUSES or not ended:
        return None
    return ContactState.COMPLETED if (duration_s or 0) > 0 else ContactState.FAILED


def _completed(outcome: str | None) -> ContactState:
    label = (outcome or "").strip().lower().replace("_", " ")
    if label == "voicemail":
        return ContactState.VOICEMAIL
    if label == "not connected":
        return ContactState.NO_ANSWER
    return ContactState.COMPLETED


class DialTimes(Protocol):
    """Decides calling times for a campaign (its windows, deadline and retry rules).

    `dial_at` answers when a pending contact may be dialled: now, a later time, or None when it
    never may (its deadline passes first: the contact expires). `retry_at` answers when a
    contact whose attempt ended with `status` is dialled again, or None for never. Both return
    a sentence for people (why it waits, or why it expired).
    """

    def dial_at(
        self, config: CampaignConfig, contact: ContactRecord, now: datetime
    ) -> tuple[datetime | None, str]: ...

    def retry_at(
        self, config: CampaignConfig, contact: ContactRecord, status: ContactState, now: datetime
    ) -> tuple[datetime | None, str]: ...

    def calls_per_day(self, config: CampaignConfig, phone: str) -> int:
        """Calls the account may make to `phone` in 24 hours, all campaigns together (0: no
        limit), by the campaign's rules."""
        ...


class AlwaysNow:
    """No windows, no retries: every contact may be dialled now, once."""

    def dial_at(
        self, config: CampaignConfig, contact: ContactRecord, now: datetime
    ) -> tuple[datetime | None, str]:
        return now, ""

    def retry_at(
        self, config: CampaignConfig, contact: ContactRecord, status: ContactState, now: datetime
    ) -> tuple[datetime | None, str]:
        return None, ""

    def calls_per_day(self, config: CampaignConfig, phone: str) -> int:
        """No rules: no limit."""
        return 0
