"""The one estimate: when dialling ends and what binds it, one test per binding case, on an
injected clock and a progress built by hand (no store needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.estimate import Rates, finish, measured_call_s
from campaigns.progress import Progress, Waiting
from dialer.account import AccountLimits
from dialer.campaign import CampaignConfig, CampaignState

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _config(**kw: object) -> CampaignConfig:
    return CampaignConfig.model_validate(
        {"campaign_id": "e", "agent_id": "a", "from_number": "+14155550100", **kw}
    )


def _progress(
    pending: int,
    state: CampaignState = CampaignState.RUNNING,
    waiting: tuple[Waiting, ...] = (),
    **counts: int,
) -> Progress:
    every = {"pending": pending, **counts}
    return Progress(state, sum(every.values()), every, waiting=waiting)


def test_rate_binds_when_calls_are_short() -> None:
    done = finish(_progress(600), _config(rate_per_s=2, max_concurrent=50), AT, Rates(call_s=10))
    assert done.seconds == pytest.approx(300)
    assert done.limited_by == "the pace of 2 calls/s"
    assert "~5 min of dialling (ends ~10:05 UTC)" in done.text


def test_concurrency_with_long_calls_binds() -> None:
    config = _config(rate_per_s=5, max_concurrent=2)
    done = finish(_progress(9), config, AT, Rates(call_s=80, measured=True))
    assert done.seconds == pytest.approx(9 * 80 / 2)  # not 9 / 5 = 2 s
    assert done.limited_by == "2 calls at once, calls last ~80 s"


def test_the_call_length_is_measured_on_the_creates_that_calls_ending_let_through() -> None:
    # Two at once: two sent together, then each create when a call of ~80 s ended.
    creates = [0, 10, 80_000, 81_010, 160_000, 161_000]
    assert measured_call_s(creates, calls=2) == pytest.approx(80.2475)
    assert measured_call_s(creates[:3], calls=2) == pytest.approx(80)  # from the first that ended
    assert measured_call_s(creates[:2], calls=2) is None  # none ended yet: nothing measured
    assert measured_call_s(creates, calls=0) is None


def test_the_account_limit_shared_by_campaigns_binds() -> None:
    rates = Rates(call_s=10, account="acme", account_limits=AccountLimits(rate_per_s=1), sharing=4)
    done = finish(_progress(100), _config(rate_per_s=5, max_concurrent=100), AT, rates)
    assert done.seconds == pytest.approx(400)
    assert done.limited_by == "account acme's pace of 1 calls/s, shared by 4 campaigns"


def test_a_window_opening_later_binds_and_names_the_next_dial() -> None:
    opens = AT.replace(hour=13)
    wait = Waiting("for their window", 4, opens)
    config = _config(rate_per_s=1, max_concurrent=10)
    done = finish(_progress(4, waiting=(wait,)), config, AT, Rates(call_s=5))
    assert done.seconds == pytest.approx(3 * 3600 + 4)
    assert done.next_dial == opens
    assert done.limited_by == "4 contacts waiting for their window (next at 13:00 UTC)"
    assert done.text.startswith("nobody due now; next dial at 13:00 UTC; ~3 h 0 min of dialling")


def test_the_re_call_gap_binds_when_the_due_are_dialled_before_it_ends() -> None:
    wait = Waiting("for the re-call gap", 3, AT + timedelta(minutes=30))
    config = _config(rate_per_s=1, max_concurrent=10)
    done = finish(_progress(13, waiting=(wait,)), config, AT, Rates(call_s=5))
    assert done.seconds == pytest.approx(1800 + 3)
    assert done.next_dial is None  # ten are due now
    assert done.limited_by.startswith("3 contacts waiting for the re-call gap")


def test_waiting_groups_due_before_the_backlog_is_dialled_just_add_to_it() -> None:
    wait = Waiting("for a retry", 5, AT + timedelta(seconds=10))
    config = _config(rate_per_s=1, max_concurrent=10)
    done = finish(_progress(105, waiting=(wait,)), config, AT, Rates(call_s=5))
    assert done.seconds == pytest.approx(105)
    assert done.limited_by == "the pace of 1 calls/s"


def test_lookups_after_a_crash_are_said() -> None:
    done = finish(_progress(0, reconciling=3), _config(), AT, Rates())
    assert "3 being looked up after a crash" in done.text


def test_the_deadline_cuts_the_estimate() -> None:
    config = _config(rate_per_s=1, max_concurrent=100, deadline="2026-12-01T10:30:00+00:00")
    done = finish(_progress(3600), config, AT, Rates(call_s=5))
    assert done.seconds == pytest.approx(1800)
    assert done.limited_by.startswith("the deadline 10:30 UTC")


@pytest.mark.parametrize(
    ("state", "said"),
    [
        (CampaignState.PAUSED, "paused: no ETA until it is resumed"),
        (CampaignState.CANCELED, "cancelled: calls in progress finish, nobody new is dialled"),
    ],
)
def test_no_estimate_while_paused_or_cancelled(state: CampaignState, said: str) -> None:
    done = finish(_progress(50, state=state), _config(), AT, Rates())
    assert (done.text, done.seconds) == (said, None)


def test_done_when_nothing_is_live() -> None:
    assert finish(_progress(0, completed=4), _config(), AT, Rates()).text == "done"
