"""`read_nanp` takes a row only when `normalize` reads it as that very NANP number."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.phone_column import read_nanp
from dialer.errors import InvalidNumber
from dialer.phone import normalize

SHAPES = [
    "+1{a}{b}{c}", "({a}) {b}-{c}", "+1 ({a}) {b}-{c}", "1-{a}-{b}-{c}", "{a}.{b}.{c}",
    "{a}{b}{c}", "+1-{a}-{b}-{c}", "1 {a} {b} {c}", "({a}){b}{c}", "+1{a}{b}{c} ", "'+1{a}{b}{c}",
    "+1{a}{b}{c}0", "+{a}{b}{c}", "({a} {b}-{c}", "+1 {a} {b} {c}",
]  # fmt: skip


@st.composite
def numbers(draw: st.DrawFn) -> str:
    """NANP-looking numbers of every area code (US, Canada, the Caribbean, invalid ones) in
    the shapes `normalize` reads at once, and a few it does not."""
    area = f"{draw(st.integers(0, 999)):03d}"
    exchange = f"{draw(st.integers(0, 999)):03d}"
    line = f"{draw(st.integers(0, 9999)):04d}"
    return draw(st.sampled_from(SHAPES)).format(a=area, b=exchange, c=line)


def expected(phone: str, region: str) -> str | None:
    try:
        return normalize(phone, region)
    except InvalidNumber:
        return None


@given(phones=st.lists(numbers(), max_size=60), region=st.sampled_from(["US", "CA", "GB", "JM"]))
@settings(max_examples=300, deadline=None)
def test_a_row_taken_is_what_normalize_returns(phones: list[str], region: str) -> None:
    column = read_nanp(pa.array(phones, type=pa.string()), region)
    taken = [phone for phone, ok in zip(phones, column.taken, strict=True) if ok]
    assert column.e164().to_pylist() == [expected(phone, region) for phone in taken]
    assert column.keys.tolist() == [int(phone[1:]) for phone in column.e164().to_pylist()]


def test_most_rows_of_a_us_list_are_taken() -> None:
    phones = ["+14155550123", "(415) 555-0124", "415.555.0125", "+14165550126", "+12423571234"]
    column = read_nanp(pa.array(phones), "US")
    assert column.taken.tolist() == [True] * 5
    assert read_nanp(
        pa.array(["(415) 555-0124", "+1 999 555 1234", "n/a"]), "GB"
    ).taken.tolist() == [
        False,  # a national number is not NANP for GB
        False,  # invalid: `normalize` says why
        False,
    ]
