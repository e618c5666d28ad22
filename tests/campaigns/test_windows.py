"""Calling windows: parsing, zones, DST, midnight crossing, several zones, state rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers.tzdata import TIMEZONE_DATA

from campaigns.state_rules import load_rules
from campaigns.windows import (
    ALWAYS,
    HORIZON,
    Window,
    explain,
    is_allowed,
    load_zone,
    local_instant,
    next_allowed,
    parse_days,
    parse_start_at,
    parse_window,
    window_end,
    zones_for,
)
from dialer.errors import ConfigError, InputError


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def zones(*names: str) -> tuple[ZoneInfo, ...]:
    return tuple(ZoneInfo(n) for n in names)


US_RULES = load_rules("us-states")

# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("mon,wed,fri", {0, 2, 4}),
        ("sat-sun", {5, 6}),
        ("all", set(range(7))),
        ("mon-sun", set(range(7))),
        ("fri-mon", {4, 5, 6, 0}),
        ("Tuesday", {1}),
        ("sun-sun", {6}),
    ],
)
def test_parse_days(text: str, days: set[int]) -> None:
    assert parse_days(text) == frozenset(days)


@pytest.mark.parametrize("text", ["", "funday", "mon-", "mon,,fri", "1-5"])
def test_parse_days_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="--days"):
        parse_days(text)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("08:00-21:00", time(8), time(21)),
        (" 22:00-02:00 ", time(22), time(2)),
        ("00:00-24:00", time(0), time(0)),
        ("09:30-24:00", time(9, 30), time(0)),
    ],
)
def test_parse_window(text: str, start: time, end: time) -> None:
    assert parse_window(text, "mon-fri") == Window(start, end, frozenset(range(5)))


def test_parse_window_always_and_str() -> None:
    assert parse_window("ALWAYS") == ALWAYS
    assert str(parse_window("08:00-21:00", "mon-fri")) == "08:00-21:00 mon-fri"
    assert str(parse_window("00:00-24:00")) == "00:00-24:00 all"


@pytest.mark.parametrize("text", ["8-21", "08:00", "08:00-08:00", "24:00-08:00", "08:60-09:00"])
def test_parse_window_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="--window"):
        parse_window(text)


# --- zones ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "column", "expected"),
    [
        ("+13125550100", None, ("America/Chicago",)),
        ("+13125550100", " Europe/Paris ", ("Europe/Paris",)),
        ("+16055550100", None, ("America/Denver", "America/North_Dakota/Center")),
        ("+61881234567", None, ("Australia/Adelaide", "Australia/Perth")),
        ("+97714212345", None, ("Asia/Katmandu",)),
        ("+80012345678", None, ()),  # Etc/Unknown: no guess
        ("+80012345678", "Asia/Tokyo", ("Asia/Tokyo",)),
    ],
)
def test_zones_for(number: str, column: str | None, expected: tuple[str, ...]) -> None:
    assert tuple(z.key for z in zones_for(number, column)) == expected


def test_zones_for_toll_free_spans_nanp() -> None:
    keys = {z.key for z in zones_for("+18002530000")}
    assert {"Pacific/Guam", "America/St_Johns", "Pacific/Pago_Pago", "America/Adak"} <= keys


def test_unknown_zone_column_names_it() -> None:
    with pytest.raises(InputError, match="Mars/Olympus"):
        zones_for("+13125550100", "Mars/Olympus")


def test_every_zone_phonenumbers_names_loads() -> None:
    names = {z for v in TIMEZONE_DATA.values() for z in v} - {"Etc/Unknown"}
    for name in names:
        load_zone(name)


# --- edges across DST -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "at", "is_start", "expected"),
    [
        # New York springs forward 2026-03-08 02:00 EST -> 03:00 EDT (07:00 UTC)
        ("America/New_York", date(2026, 3, 8), time(2, 30), True, utc(2026, 3, 8, 7)),
        ("America/New_York", date(2026, 3, 8), time(2, 30), False, utc(2026, 3, 8, 7)),
        ("America/New_York", date(2026, 3, 8), time(3, 0), True, utc(2026, 3, 8, 7)),
        # ... and falls back 2026-11-01 02:00 EDT -> 01:00 EST (06:00 UTC)
        ("America/New_York", date(2026, 11, 1), time(1, 30), True, utc(2026, 11, 1, 6, 30)),
        ("America/New_York", date(2026, 11, 1), time(1, 30), False, utc(2026, 11, 1, 5, 30)),
        # Berlin springs forward 2026-03-29 02:00 CET -> 03:00 CEST (01:00 UTC)
        ("Europe/Berlin", date(2026, 3, 29), time(2, 30), True, utc(2026, 3, 29, 1)),
        # London falls back 2026-10-25 02:00 BST -> 01:00 GMT (01:00 UTC)
        ("Europe/London", date(2026, 10, 25), time(1, 15), True, utc(2026, 10, 25, 1, 15)),
        ("Europe/London", date(2026, 10, 25), time(1, 15), False, utc(2026, 10, 25, 0, 15)),
        # Adelaide falls back 2026-04-05 03:00 ACDT -> 02:00 ACST (16:30 UTC the day before)
        ("Australia/Adelaide", date(2026, 4, 5), time(2, 15), True, utc(2026, 4, 4, 16, 45)),
        ("Australia/Adelaide", date(2026, 4, 5), time(2, 15), False, utc(2026, 4, 4, 15, 45)),
        # Lord Howe moves by 30 minutes: 2026-10-04 02:00 -> 02:30 (15:30 UTC the day before)
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 10), True, utc(2026, 10, 3, 15, 30)),
    ],
)
def test_local_instant(zone: str, day: date, at: time, is_start: bool, expected: datetime) -> None:
    assert local_instant(ZoneInfo(zone), day, at, is_start=is_start) == expected


# --- next_allowed: exact cases ----------------------------------------------------------------

DEFAULT = parse_window("08:00-21:00")
WEEKDAYS = parse_window("08:00-21:00", "mon-fri")
NIGHT = parse_window("22:00-02:00", "mon-fri")

CASES = [
    # (zones, window, now, next allowed, end of that period)
    (
        ("America/Chicago",),
        WEEKDAYS,
        utc(2026, 3, 9, 11, 12),
        utc(2026, 3, 9, 13),
        utc(2026, 3, 10, 2),
    ),
    (("America/Chicago",), WEEKDAYS, utc(2026, 3, 9, 15), utc(2026, 3, 9, 15), utc(2026, 3, 10, 2)),
    # Friday 21:00 CDT -> Monday 08:00
    (
        ("America/Chicago",),
        WEEKDAYS,
        utc(2026, 3, 14, 2),
        utc(2026, 3, 16, 13),
        utc(2026, 3, 17, 2),
    ),
    # the same local window on both sides of the US spring-forward weekend
    (("America/New_York",), DEFAULT, utc(2026, 3, 7, 3), utc(2026, 3, 7, 13), utc(2026, 3, 8, 2)),
    (("America/New_York",), DEFAULT, utc(2026, 3, 8, 3), utc(2026, 3, 8, 12), utc(2026, 3, 9, 1)),
    # US fall back: 08:00 EDT on Saturday, 08:00 EST on Sunday
    (
        ("America/New_York",),
        DEFAULT,
        utc(2026, 10, 31, 3),
        utc(2026, 10, 31, 12),
        utc(2026, 11, 1, 1),
    ),
    (
        ("America/New_York",),
        DEFAULT,
        utc(2026, 11, 1, 3),
        utc(2026, 11, 1, 13),
        utc(2026, 11, 2, 2),
    ),
    # EU: Berlin spring forward, London fall back
    (("Europe/Berlin",), DEFAULT, utc(2026, 3, 28, 21), utc(2026, 3, 29, 6), utc(2026, 3, 29, 19)),
    (
        ("Europe/London",),
        DEFAULT,
        utc(2026, 10, 24, 21),
        utc(2026, 10, 25, 8),
        utc(2026, 10, 25, 21),
    ),
    # a window that opens inside the spring-forward gap opens at its end
    (
        ("America/New_York",),
        parse_window("02:30-05:00"),
        utc(2026, 3, 8, 5),
        utc(2026, 3, 8, 7),
        utc(2026, 3, 8, 9),
    ),
    # half-hour and 45-minute offsets
    (("Asia/Kolkata",), DEFAULT, utc(2026, 6, 1), utc(2026, 6, 1, 2, 30), utc(2026, 6, 1, 15, 30)),
    (
        ("Asia/Kathmandu",),
        DEFAULT,
        utc(2026, 6, 1),
        utc(2026, 6, 1, 2, 15),
        utc(2026, 6, 1, 15, 15),
    ),
    (
        ("Australia/Adelaide",),
        DEFAULT,
        utc(2026, 1, 4, 12),
        utc(2026, 1, 4, 21, 30),
        utc(2026, 1, 5, 10, 30),
    ),
    (
        ("Australia/Adelaide",),
        DEFAULT,
        utc(2026, 6, 1, 12),
        utc(2026, 6, 1, 22, 30),
        utc(2026, 6, 2, 11, 30),
    ),
    # several zones: the intersection
    (
        ("America/Denver", "America/North_Dakota/Center"),
        DEFAULT,
        utc(2026, 6, 1, 13, 30),
        utc(2026, 6, 1, 14),
        utc(2026, 6, 2, 2),
    ),
    # midnight crossing, mon-fri by the day the window starts: Fri 22:00 - Sat 02:00 is in
    (("Europe/Paris",), NIGHT, utc(2026, 6, 5, 19), utc(2026, 6, 5, 20), utc(2026, 6, 6)),
    (("Europe/Paris",), NIGHT, utc(2026, 6, 5, 23), utc(2026, 6, 5, 23), utc(2026, 6, 6)),
    # Sat 23:00 and Mon 01:00 (started Sunday) are out: next is Mon 22:00
    (("Europe/Paris",), NIGHT, utc(2026, 6, 6, 21), utc(2026, 6, 8, 20), utc(2026, 6, 9)),
    (("Europe/Paris",), NIGHT, utc(2026, 6, 7, 23), utc(2026, 6, 8, 20), utc(2026, 6, 9)),
    # Tue 01:00 belongs to Monday's window
    (("Europe/Paris",), NIGHT, utc(2026, 6, 8, 23), utc(2026, 6, 8, 23), utc(2026, 6, 9)),
    # all-day windows merge into one period
    (
        ("Europe/Paris",),
        parse_window("00:00-24:00", "mon-tue"),
        utc(2026, 6, 8, 12),
        utc(2026, 6, 8, 12),
        utc(2026, 6, 9, 22),
    ),
]


@pytest.mark.parametrize(("names", "window", "now", "expected", "end"), CASES)
def test_next_allowed(
    names: tuple[str, ...], window: Window, now: datetime, expected: datetime, end: datetime
) -> None:
    zs = zones(*names)
    assert next_allowed(now, zs, window) == expected
    assert is_allowed(now, zs, window) == (expected == now)
    assert window_end(expected, zs, window) == end


def test_toll_free_number_waits_for_the_narrow_overlap() -> None:
    # Guam (UTC+10) opens 22:00 UTC; St John's (UTC-2:30 in summer) closes 23:30 UTC
    zs = zones_for("+18002530000")
    now = utc(2026, 3, 9, 11, 12)
    assert next_allowed(now, zs, WEEKDAYS) == utc(2026, 3, 9, 22)
    assert window_end(utc(2026, 3, 9, 22), zs, WEEKDAYS) == utc(2026, 3, 9, 23, 30)


def test_unknown_zone_is_never_allowed_but_always_is() -> None:
    now = utc(2026, 3, 9, 15)
    assert next_allowed(now, (), DEFAULT) is None
    assert not is_allowed(now, (), DEFAULT)
    assert is_allowed(now, (), ALWAYS)
    assert "unknown time zone" in explain(now, (), DEFAULT)


def test_zones_with_no_common_hours_give_none() -> None:
    # 25 hours apart: Monday never overlaps Monday
    zs = zones("Pacific/Kiritimati", "Pacific/Pago_Pago")
    assert next_allowed(utc(2026, 3, 9), zs, parse_window("09:00-17:00", "mon")) is None


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_allowed(datetime(2026, 3, 9), zones("UTC"), DEFAULT)


# --- state rules ------------------------------------------------------------------------------


def _rule_case(number: str, now: datetime, window: Window = DEFAULT) -> datetime | None:
    return next_allowed(now, zones_for(number), window, US_RULES.rule_for(number))


@pytest.mark.parametrize(
    ("number", "now", "expected"),
    [
        # Florida closes at 20:00 EDT (00:00 UTC)
        ("+13055550100", utc(2026, 6, 2, 0, 30), utc(2026, 6, 2, 12)),
        ("+13055550100", utc(2026, 6, 1, 23, 59), utc(2026, 6, 1, 23, 59)),
        # Chicago has no state rule: 20:30 CDT is fine
        ("+13125550100", utc(2026, 6, 2, 1, 30), utc(2026, 6, 2, 1, 30)),
        # Alabama: no Sunday; 2026-07-04 is a Saturday, observed Friday 07-03
        ("+12055550100", utc(2026, 7, 3, 12), utc(2026, 7, 6, 13)),
        ("+12055550100", utc(2026, 6, 7, 15), utc(2026, 6, 8, 13)),
        # Alabama: Thanksgiving 2026-11-26, Memorial Day 2026-05-25
        ("+12055550100", utc(2026, 11, 26, 15), utc(2026, 11, 27, 14)),
        ("+12055550100", utc(2026, 5, 25, 15), utc(2026, 5, 26, 13)),
        # Kentucky opens at 10:00
        ("+15025550100", utc(2026, 6, 1, 13), utc(2026, 6, 1, 14)),
        # Nebraska: Sunday 13:00-21:00 CDT
        ("+14029551234", utc(2026, 3, 15, 15), utc(2026, 3, 15, 18)),
        # Rhode Island: weekdays 09:00-18:00, weekends closed
        ("+14015550100", utc(2026, 6, 5, 22, 30), utc(2026, 6, 8, 13)),
        # Canada has no US rule
        ("+14165550100", utc(2026, 6, 2, 0, 30), utc(2026, 6, 2, 0, 30)),
    ],
)
def test_state_rules(number: str, now: datetime, expected: datetime) -> None:
    assert _rule_case(number, now) == expected


def test_state_rule_applies_with_window_always() -> None:
    assert _rule_case("+13055550100", utc(2026, 6, 2, 0, 30), ALWAYS) == utc(2026, 6, 2, 12)


def test_state_rule_narrows_a_midnight_window() -> None:
    # Saturday 22:00 - Sunday 02:00 in Alabama: Sunday is closed and 20:00 ends Saturday
    window = parse_window("19:00-02:00")
    assert _rule_case("+12055550100", utc(2026, 6, 7, 0), window) == utc(2026, 6, 7, 0)
    assert window_end(
        utc(2026, 6, 7, 0), zones_for("+12055550100"), window, US_RULES.rule_for("+12055550100")
    ) == utc(2026, 6, 7, 1)


def test_rule_table() -> None:
    assert US_RULES.state_for("+13055550100") == "FL"
    assert US_RULES.state_for("+442071234567") is None
    assert set(US_RULES.states) >= {"AL", "CT", "FL", "KY", "LA", "MD", "MA", "MI", "MN", "MS"}
    assert set(US_RULES.states) >= {"NE", "NV", "NM", "OK", "PA", "RI"}
    assert len(set(US_RULES.area_codes.values())) == 51  # 50 states and DC
    assert US_RULES.states["AL"].summary() == "mon-sat 08:00-20:00, sun closed, holidays closed"
    with pytest.raises(ConfigError, match="--rules"):
        load_rules("eu-states")


# --- explain ----------------------------------------------------------------------------------


def test_explain() -> None:
    chicago = zones("America/Chicago")
    assert explain(utc(2026, 3, 9, 11, 12), chicago, WEEKDAYS) == (
        "waiting: Mon 06:12 in America/Chicago, window 08:00-21:00 mon-fri; "
        "opens Mon 08:00 in America/Chicago (2026-03-09 13:00 UTC)"
    )
    assert explain(utc(2026, 3, 9, 15), chicago, WEEKDAYS) == (
        "allowed: Mon 10:00 in America/Chicago, window 08:00-21:00 mon-fri; "
        "closes 2026-03-10 02:00 UTC"
    )
    fl = US_RULES.rule_for("+13055550100")
    text = explain(utc(2026, 6, 2, 0, 30), zones_for("+13055550100"), DEFAULT, fl)
    assert "FL rule all 08:00-20:00" in text and "opens Tue 08:00" in text
    assert explain(utc(2026, 3, 9), chicago, ALWAYS).startswith("allowed")
    far = zones("Pacific/Kiritimati", "Pacific/Pago_Pago")
    never = explain(utc(2026, 3, 9), far, parse_window("09:00-17:00", "mon"))
    assert never.startswith("no time in the next")


# --- start time -------------------------------------------------------------------------------

NOW = utc(2026, 3, 9, 15)  # 11:00 in New York


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2026-03-10T09:00-05:00", None, utc(2026, 3, 10, 14)),
        ("2026-03-10T09:00Z", "Asia/Tokyo", utc(2026, 3, 10, 9)),
        ("2026-03-10T09:00+05:45", None, utc(2026, 3, 10, 3, 15)),
        ("2026-03-10 09:00", "America/New_York", utc(2026, 3, 10, 13)),
        ("2026-03-08T02:30", "America/New_York", utc(2026, 3, 8, 7)),  # in the gap
        ("12:00", "America/New_York", utc(2026, 3, 9, 16)),  # later today
        ("09:00", "America/New_York", utc(2026, 3, 10, 13)),  # passed: tomorrow
    ],
)
def test_parse_start_at(text: str, tz: str | None, expected: datetime) -> None:
    assert parse_start_at(text, tz, NOW) == expected


@pytest.mark.parametrize(
    ("text", "tz", "error", "match"),
    [
        ("2026-03-10T09:00", None, ConfigError, "--tz"),
        ("09:00", None, ConfigError, "--tz"),
        ("next tuesday", None, ConfigError, "ISO 8601"),
        ("09:00", "Nowhere/Town", InputError, "Nowhere/Town"),
    ],
)
def test_parse_start_at_rejects(text: str, tz: str | None, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        parse_start_at(text, tz, NOW)


# --- properties -------------------------------------------------------------------------------

ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Phoenix",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/St_Johns",
]


def _inside(at: datetime, zone: ZoneInfo, window: Window) -> bool:
    """Independent check on wall-clock time: is `at` inside `window` in `zone`?"""
    local = at.astimezone(zone)
    wall, day = local.time().replace(tzinfo=None), local.date()
    if window.start < window.end:
        return window.start <= wall < window.end and day.weekday() in window.days
    started_today = wall >= window.start and day.weekday() in window.days
    started_yesterday = wall < window.end and (day - timedelta(days=1)).weekday() in window.days
    return started_today or started_yesterday


def _ambiguous(at: datetime, zone: ZoneInfo) -> bool:
    naive = at.astimezone(zone).replace(tzinfo=None)
    return (
        naive.replace(tzinfo=zone, fold=0).utcoffset()
        != naive.replace(tzinfo=zone, fold=1).utcoffset()
    )


# Edges at night and instants near DST changes, so that gaps and overlaps are hit often.
quarter_hours = st.integers(0, 95).map(lambda q: time(q // 4, q % 4 * 15))
night = st.sampled_from([time(h, m) for h in range(4) for m in (0, 15, 30, 45)])
edges = st.one_of(quarter_hours, night)
windows = st.builds(
    lambda s, e, d: Window(s, e, frozenset(d)),
    edges,
    edges,
    st.sets(st.integers(0, 6), min_size=1),
).filter(lambda w: w.start != w.end or w.start == time(0))
CHANGES = [  # one day before some DST changes of the zones below
    datetime(2026, 3, 7),
    datetime(2026, 10, 31),
    datetime(2026, 3, 28),
    datetime(2026, 10, 24),
    datetime(2026, 4, 4),
    datetime(2026, 10, 3),
    datetime(2026, 9, 26),
]
anywhere = st.datetimes(datetime(2026, 1, 1), datetime(2027, 1, 1))
near_change = st.builds(
    lambda d, s: d + timedelta(seconds=s), st.sampled_from(CHANGES), st.integers(0, 3 * 86400)
)
instants = st.one_of(anywhere, near_change).map(lambda d: d.replace(tzinfo=UTC, microsecond=0))


@settings(max_examples=300, deadline=None)
@given(
    now=instants,
    names=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
    window=windows,
)
def test_next_allowed_is_the_first_allowed_instant(
    now: datetime, names: list[str], window: Window
) -> None:
    zs = zones(*names)
    found = next_allowed(now, zs, window)
    last = found if found is not None else now + HORIZON
    if found is not None:
        assert found >= now
        end = window_end(found, zs, window)
        assert end is not None and end > found
        for at in (found, end - timedelta(seconds=1)):
            assert all(_inside(at, z, window) for z in zs)
        for at in (found - timedelta(seconds=1), end):  # just outside the period
            if now <= at < now + HORIZON and not any(_ambiguous(at, z) for z in zs):
                assert not all(_inside(at, z, window) for z in zs), at
    step = (last - now) / 97
    for i in range(97):
        at = now + step * i
        if at < last and not any(_ambiguous(at, z) for z in zs):
            assert not all(_inside(at, z, window) for z in zs), at


def test_a_bad_deadline_is_named_as_the_deadline() -> None:
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    with pytest.raises(ConfigError, match=r"^--deadline: 'in 2 hours' is not ISO 8601"):
        parse_start_at("in 2 hours", None, now, "--deadline")
