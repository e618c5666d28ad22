"""Cron read in a zone (DST included), the firing rule as a pure function of the time, and the
--results template checked before it is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.schedules import (
    check_cron,
    check_results_template,
    latest_due,
    next_occurrence,
)
from dialer.errors import ConfigError

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
LATENESS = timedelta(minutes=15)


def _utc(hour: int, minute: int, second: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=UTC)


def test_weekdays_at_ten_in_paris() -> None:
    friday = datetime(2026, 11, 27, 12, tzinfo=UTC)
    assert next_occurrence("0 10 * * mon-fri", PARIS, friday) == datetime(
        2026, 11, 30, 9, tzinfo=UTC
    )


def test_the_local_hour_holds_across_a_dst_change() -> None:
    before = next_occurrence("0 10 * * *", NEW_YORK, datetime(2026, 3, 7, 16, tzinfo=UTC))
    after = next_occurrence("0 10 * * *", NEW_YORK, datetime(2026, 3, 8, 16, tzinfo=UTC))
    assert before == datetime(2026, 3, 8, 14, tzinfo=UTC)  # 10:00 EDT, the first day of DST
    assert after == datetime(2026, 3, 9, 14, tzinfo=UTC)


def test_a_time_skipped_by_dst_still_fires_that_day() -> None:
    # 02:30 does not exist in New York on 8 March 2026: Debian cron runs it at 03:00 EDT
    at = next_occurrence("30 2 * * *", NEW_YORK, datetime(2026, 3, 8, 5, tzinfo=UTC))
    assert at == datetime(2026, 3, 8, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("*/15 * * * *", _utc(9, 15)),
        ("5,35 9-17 * * sat,sun", datetime(2026, 12, 5, 9, 5, tzinfo=UTC)),  # Saturday
        ("0 8 * * 7", datetime(2026, 12, 6, 8, tzinfo=UTC)),  # 7 is Sunday too
    ],
)
def test_cron_fields(text: str, first: datetime) -> None:
    assert next_occurrence(check_cron(text), ZoneInfo("UTC"), _utc(9, 0)) == first


@pytest.mark.parametrize(
    "bad",
    ["0 10 * *", "61 * * * *", "0 10 * * funday", "*/0 * * * *", "0 0 31 2 *", "0 * * * * *"],
)
def test_bad_cron_is_refused_with_the_option_named(bad: str) -> None:
    with pytest.raises(ConfigError, match="--cron"):
        check_cron(bad)


# -- the firing rule -------------------------------------------------------------------------


def test_an_occurrence_before_the_job_was_added_is_not_due() -> None:
    added = _utc(10, 29, 30)
    assert latest_due("* * * * *", PARIS, added, _utc(10, 29, 59), LATENESS) is None
    assert latest_due("* * * * *", PARIS, added, _utc(10, 30, 5), LATENESS) == _utc(10, 30)


def test_after_an_outage_only_the_latest_missed_occurrence_is_due() -> None:
    added = _utc(10, 29, 30)
    assert latest_due("* * * * *", PARIS, added, _utc(10, 47, 10), LATENESS) == _utc(10, 47)


def test_a_daily_time_passed_before_the_job_was_added_waits_for_the_next_day() -> None:
    added = _utc(9, 5)  # 10:05 in Paris, five minutes after 10:00
    assert latest_due("0 10 * * *", PARIS, added, _utc(9, 6), LATENESS) is None
    tomorrow = _utc(9, 0, 20, day=2)
    assert latest_due("0 10 * * *", PARIS, added, tomorrow, LATENESS) == _utc(9, 0, day=2)


def test_an_occurrence_missed_by_more_than_the_lateness_limit_is_skipped() -> None:
    added = _utc(8, 0)
    assert latest_due("0 10 * * *", PARIS, added, _utc(9, 14), LATENESS) == _utc(9, 0)
    assert latest_due("0 10 * * *", PARIS, added, _utc(9, 16), LATENESS) is None
    assert latest_due("0 10 * * *", PARIS, added, _utc(9, 0, 2), timedelta(seconds=1)) is None


# -- the results template --------------------------------------------------------------------


def test_a_typo_in_the_results_template_is_refused_naming_the_valid_placeholders() -> None:
    with pytest.raises(ConfigError) as caught:
        check_results_template("/out/{nme}-{date}.csv")
    message = str(caught.value)
    assert "--results" in message and "{nme}" in message
    assert all(f"{{{field}}}" in message for field in ("name", "date", "time", "campaign"))


@pytest.mark.parametrize("bad", ["/out/{}.csv", "/out/{0}.csv", "/out/{name.csv", "/out/}.csv"])
def test_templates_that_cannot_be_filled_in_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="--results"):
        check_results_template(bad)


def test_every_placeholder_and_literal_braces_are_accepted() -> None:
    text = "/out/{{x}}/{name}-{date}-{time}-{campaign}.csv"
    assert check_results_template(text) == text
