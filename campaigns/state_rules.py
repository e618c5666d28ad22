"""State calling rules (`--rules us-states`): hours per local weekday and on holidays, and the
area-code table that picks a state for a number. The data is `campaigns/rules/us_states.json`;
`campaigns.windows` narrows a calling window by a rule the same way it intersects zones.

A state's holidays are the `holidays` package's public holidays of that state (federal and
state, with the days they are observed on); the rules file keeps only what a state's calling
law adds to them or removes from them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, time
from functools import cache
from importlib import resources
from typing import Any

from campaigns.windows import format_days, parse_days, parse_window
from dialer.errors import ConfigError

Hours = tuple[time, time]  # [start, end) local; (00:00, 00:00) is the whole day
FULL_DAY: Hours = (time(0), time(0))
RULE_SETS = {"us-states": "us_states.json"}


@dataclass(frozen=True)
class Holidays:
    """The holidays of US state `state`, from the `holidays` package, with the law's changes:
    `added` dates (month, day) every year, `removed` holidays by their name in the package (an
    observed day goes with its holiday)."""

    state: str
    added: tuple[tuple[int, int], ...] = ()
    removed: tuple[str, ...] = ()

    def dates(self, year: int) -> frozenset[date]:
        """The dates these holidays block in `year`."""
        return _holiday_dates(self, year)


@cache
def _holiday_dates(holidays: Holidays, year: int) -> frozenset[date]:
    import holidays as calendars

    calendar = calendars.country_holidays("US", subdiv=holidays.state, years=year)
    removed = set(holidays.removed) | {f"{name} (observed)" for name in holidays.removed}
    kept = {day for day in calendar if not set(calendar.get_list(day)) <= removed}
    return frozenset(kept | {date(year, month, day) for month, day in holidays.added})


@dataclass(frozen=True)
class StateRule:
    """One state's hours per local weekday (None = no calls) and on holidays."""

    state: str
    name: str
    days: tuple[Hours | None, ...]  # Mon=0; FULL_DAY where the state adds nothing
    holiday_hours: Hours | None = FULL_DAY
    holidays: Holidays | None = None  # None: holidays are ordinary days for this state

    def hours_on(self, day: date) -> Hours | None:
        """The state's hours on a local date; None when no call is allowed that day."""
        if self.holidays is not None and day in self.holidays.dates(day.year):
            return self.holiday_hours
        return self.days[day.weekday()]

    def summary(self) -> str:
        """`mon-sat 08:00-20:00, sun closed, holidays closed`."""
        groups: dict[Hours | None, set[int]] = {}
        for i, hours in enumerate(self.days):
            groups.setdefault(hours, set()).add(i)
        parts = [f"{format_days(frozenset(d))} {_hours_text(h)}" for h, d in groups.items()]
        if self.holidays:
            parts.append(f"holidays {_hours_text(self.holiday_hours)}")
        return ", ".join(parts)


def _hours_text(hours: Hours | None) -> str:
    if hours is None:
        return "closed"
    return "any time" if hours == FULL_DAY else f"{hours[0]:%H:%M}-{hours[1]:%H:%M}"


@dataclass(frozen=True)
class RuleSet:
    """State rules and the area-code table that picks one for a number."""

    states: dict[str, StateRule]
    area_codes: dict[str, str]  # NANP area code -> state
    calls_per_day: dict[str, int] = field(default_factory=dict)  # state -> calls in 24 hours

    def state_for(self, e164: str) -> str | None:
        """The US state of a +1 number's area code, when the table knows it."""
        return self.area_codes.get(e164[2:5]) if e164.startswith("+1") else None

    def rule_for(self, e164: str) -> StateRule | None:
        """The stricter rule for the number's state; None where only the window applies."""
        state = self.state_for(e164)
        return self.states.get(state) if state else None

    def calls_per_day_for(self, e164: str) -> int:
        """Calls the number's state allows to it in any 24 hours (0: no such limit)."""
        return self.calls_per_day.get(self.state_for(e164) or "", 0)


@cache
def load_rules(name: str) -> RuleSet:
    """A packaged rule set by its `--rules` name (`us-states`)."""
    if name not in RULE_SETS:
        raise ConfigError(
            f"--rules: unknown rule set {name!r} (known: {', '.join(RULE_SETS)})", field="rules"
        )
    path = resources.files("campaigns").joinpath("rules", RULE_SETS[name])
    return rule_set_from(json.loads(path.read_text(encoding="utf-8")))


def rule_set_from(doc: dict[str, Any]) -> RuleSet:
    """A RuleSet from the JSON document described in `us_states.json`'s `about`."""
    states = {code: _state_rule(code, spec) for code, spec in doc["states"].items()}
    area_codes = {npa: st for st, npas in doc["area_codes"].items() for npa in npas}
    return RuleSet(states, area_codes, dict(doc.get("calls_per_day", {})))


def _state_rule(code: str, spec: dict[str, Any]) -> StateRule:
    days: list[Hours | None] = [FULL_DAY] * 7
    for day_spec, text in spec["hours"].items():
        for d in parse_days(day_spec, f"rules {code}"):
            days[d] = _rule_hours(text, code)
    if "holidays" not in spec:
        return StateRule(code, spec["name"], tuple(days))
    holidays = Holidays(
        code,
        added=tuple(_month_day(text, code) for text in spec.get("holidays_added", [])),
        removed=tuple(spec.get("holidays_removed", [])),
    )
    return StateRule(code, spec["name"], tuple(days), _rule_hours(spec["holidays"], code), holidays)


def _month_day(text: str, code: str) -> tuple[int, int]:
    try:
        month, day = (int(x) for x in text.split("-"))
        date(2000, month, day)  # a leap year: 02-29 is a date
    except ValueError:
        raise ConfigError(f"rules {code}: holiday {text!r} is not MM-DD", field="rules") from None
    return month, day


def _rule_hours(text: str, code: str) -> Hours | None:
    if text == "closed":
        return None
    window = parse_window(text)
    if window.end <= window.start:
        raise ConfigError(f"rules {code}: {text!r} must not cross midnight", field="rules")
    return (window.start, window.end)
