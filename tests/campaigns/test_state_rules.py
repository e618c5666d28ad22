"""State holidays from the `holidays` package, with what a state's law adds or removes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from campaigns.state_rules import FULL_DAY, load_rules, rule_set_from
from campaigns.windows import next_allowed, parse_window, zones_for
from dialer.errors import ConfigError

US_RULES = load_rules("us-states")
DEFAULT = parse_window("08:00-21:00")
NUMBERS = {"AL": "+12055550100", "LA": "+15045550100", "NE": "+14029551234",
           "PA": "+12155550100", "RI": "+14015550100"}  # fmt: skip


@pytest.mark.parametrize(
    ("state", "holidays", "ordinary"),
    [
        # Confederate Memorial Day, Jefferson Davis' Birthday, July 4th observed, New Year's
        # Day 2028 observed on a Friday of 2027
        ("AL", ["2026-04-27", "2026-06-01", "2026-07-03", "2027-12-31"], "2026-04-28"),
        # Mardi Gras, Good Friday, Christmas
        ("LA", ["2026-02-17", "2026-04-03", "2026-12-25"], "2026-02-18"),
        # Arbor Day, Memorial Day
        ("NE", ["2026-04-24", "2026-05-25"], "2026-04-23"),
        # Martin Luther King Jr. Day, Columbus Day, Thanksgiving
        ("PA", ["2026-01-19", "2026-10-12", "2026-11-26"], "2026-01-20"),
        # Victory Day, Labor Day
        ("RI", ["2026-08-10", "2026-09-07"], "2026-08-11"),
    ],
)
def test_known_holidays_of_each_state_with_holiday_rules(
    state: str, holidays: list[str], ordinary: str
) -> None:
    rule = US_RULES.states[state]
    assert rule.holidays is not None
    for day in map(date.fromisoformat, holidays):
        assert rule.hours_on(day) == rule.holiday_hours, (state, day)
    day = date.fromisoformat(ordinary)
    assert rule.hours_on(day) == rule.days[day.weekday()]
    assert (
        rule.hours_on(day) != rule.holiday_hours or rule.holiday_hours == rule.days[day.weekday()]
    )


def test_every_state_with_holiday_rules_is_pinned_above() -> None:
    assert {code for code, rule in US_RULES.states.items() if rule.holidays} == set(NUMBERS)


@pytest.mark.parametrize(
    ("state", "now", "expected"),
    [
        # Alabama on Confederate Memorial Day (Monday 2026-04-27): next at Tuesday 08:00 CDT
        ("AL", datetime(2026, 4, 27, 15, tzinfo=UTC), datetime(2026, 4, 28, 13, tzinfo=UTC)),
        # Louisiana on Mardi Gras (Tuesday 2026-02-17): next at Wednesday 08:00 CST
        ("LA", datetime(2026, 2, 17, 15, tzinfo=UTC), datetime(2026, 2, 18, 14, tzinfo=UTC)),
        # Nebraska on Arbor Day (Friday 2026-04-24): Sunday-and-holiday hours from 13:00 CDT
        ("NE", datetime(2026, 4, 24, 15, tzinfo=UTC), datetime(2026, 4, 24, 18, tzinfo=UTC)),
    ],
)
def test_a_state_holiday_moves_the_next_dial(state: str, now: datetime, expected: datetime) -> None:
    number = NUMBERS[state]
    assert next_allowed(now, zones_for(number), DEFAULT, US_RULES.rule_for(number)) == expected


def _louisiana(**law: object) -> dict[str, object]:
    spec = {"name": "Louisiana", "hours": {"sun": "closed"}, "holidays": "closed", **law}
    return {"states": {"LA": spec}, "area_codes": {"LA": ["504"]}}


def test_the_rules_file_adds_and_removes_holidays() -> None:
    rule = rule_set_from(_louisiana(holidays_added=["12-24"], holidays_removed=["Mardi Gras"]))
    louisiana = rule.states["LA"]
    assert louisiana.hours_on(date(2026, 12, 24)) is None
    assert louisiana.hours_on(date(2026, 2, 17)) == FULL_DAY  # Mardi Gras removed
    assert louisiana.hours_on(date(2026, 7, 3)) is None  # July 4th observed stays
    unchanged = rule_set_from(_louisiana()).states["LA"]
    assert unchanged.hours_on(date(2026, 12, 24)) == FULL_DAY
    assert unchanged.hours_on(date(2026, 2, 17)) is None


def test_a_removed_holiday_takes_its_observed_day_with_it() -> None:
    rule = rule_set_from(_louisiana(holidays_removed=["Independence Day"])).states["LA"]
    assert rule.hours_on(date(2026, 7, 3)) == FULL_DAY
    assert rule.hours_on(date(2026, 7, 4)) == FULL_DAY


def test_a_bad_added_date_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="rules LA: holiday '13-01' is not MM-DD"):
        rule_set_from(_louisiana(holidays_added=["13-01"]))
