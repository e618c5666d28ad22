"""What a provider call means for the contact (dialer.policy): every documented status and
outcome, and the poll schedule."""

from __future__ import annotations

import pytest

from dialer.policy import POLL_SCHEDULE_S, Timing, final_state, next_poll_s
from dialer.store import FINAL_STATES, ContactState

# The statuses OneInbox documents (shared/reference/oneinbox-api.md, 2b) and the built-in
# outcome labels (2d), as stored (Title Case) and as PATCH accepts them (lowercase_underscore).
LIVE_STATUSES = ("queued", "initiated", "in_progress")
OUTCOMES = (
    None,
    "",
    "Appointment Booked",
    "Not Interested",
    "Not Connected",
    "not_connected",
    "Voicemail",
    "voicemail",
    "Interested",
    "A custom label",
)


@pytest.mark.parametrize("status", LIVE_STATUSES)
@pytest.mark.parametrize("outcome", OUTCOMES)
def test_a_live_call_has_no_final_state_whatever_its_outcome(
    status: str, outcome: str | None
) -> None:
    assert final_state(status, outcome) is None


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_a_failed_call_is_failed_whatever_its_outcome(outcome: str | None) -> None:
    assert final_state("failed", outcome) is ContactState.FAILED


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("Voicemail", ContactState.VOICEMAIL),
        ("voicemail", ContactState.VOICEMAIL),
        (" Voicemail ", ContactState.VOICEMAIL),
        ("Not Connected", ContactState.NO_ANSWER),
        ("not_connected", ContactState.NO_ANSWER),
        ("NOT CONNECTED", ContactState.NO_ANSWER),
        ("Appointment Booked", ContactState.COMPLETED),
        ("Not Interested", ContactState.COMPLETED),
        ("Interested", ContactState.COMPLETED),
        ("A custom label", ContactState.COMPLETED),
        ("", ContactState.COMPLETED),
        (None, ContactState.COMPLETED),  # outcome not (yet) classified: the call itself completed
    ],
)
def test_a_completed_call_ends_as_its_outcome_says(
    outcome: str | None, expected: ContactState
) -> None:
    assert final_state("completed", outcome) is expected


def test_every_final_state_is_final_and_every_live_status_is_not() -> None:
    ends = {final_state(s, o) for s in ("completed", "failed") for o in OUTCOMES}
    assert ends == {
        ContactState.COMPLETED,
        ContactState.VOICEMAIL,
        ContactState.NO_ANSWER,
        ContactState.FAILED,
    }
    assert ends <= FINAL_STATES


def test_polls_start_quick_then_settle_on_the_last_step_scaled() -> None:
    timing = Timing(poll_scale=0.5)
    delays = [next_poll_s(n, timing) for n in range(len(POLL_SCHEDULE_S) + 3)]
    assert delays[0] == POLL_SCHEDULE_S[0] * 0.5
    assert delays == sorted(delays)
    assert delays[-1] == delays[-4] == POLL_SCHEDULE_S[-1] * 0.5


# Statuses as providers may send them (any case, `-` or `_`), and what the contact becomes.
@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("COMPLETED", ContactState.COMPLETED),
        ("Failed", ContactState.FAILED),
        ("busy", ContactState.NO_ANSWER),
        ("BUSY", ContactState.NO_ANSWER),
        ("no-answer", ContactState.NO_ANSWER),
        ("no_answer", ContactState.NO_ANSWER),
        ("No Answer", ContactState.NO_ANSWER),
        ("canceled", ContactState.FAILED),
        ("cancelled", ContactState.FAILED),
        ("Canceled", ContactState.FAILED),
    ],
)
def test_provider_status_words_are_read_leniently(status: str, expected: ContactState) -> None:
    assert final_state(status, None) is expected


@pytest.mark.parametrize("status", ["in-progress", "IN_PROGRESS", "In Progress", "Queued"])
def test_a_live_status_in_any_spelling_is_live_even_with_an_end_time(status: str) -> None:
    assert final_state(status, "Interested", ended=True, duration_s=30) is None


def test_an_undocumented_status_is_final_once_the_call_ended() -> None:
    assert final_state("machine-detected", None) is None  # no ended_at: keep polling
    assert (
        final_state("machine-detected", None, ended=True, duration_s=12) is ContactState.COMPLETED
    )
    assert final_state("rejected", None, ended=True, duration_s=0) is ContactState.FAILED
    assert final_state("rejected", None, ended=True, duration_s=None) is ContactState.FAILED


def test_completed_in_capitals_still_reads_the_outcome() -> None:
    assert final_state("COMPLETED", "Voicemail") is ContactState.VOICEMAIL
