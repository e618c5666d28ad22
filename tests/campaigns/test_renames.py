"""Variables renamed (`--rename "First Name=first_name"`): what the agent receives, and what is
refused with a message naming the column."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.contacts import LoadOptions, open_contacts
from campaigns.renames import parse_renames, renamed, stored
from dialer.errors import InputError

VARIABLES = (("First Name", 1), ("Email", 2), ("Company", 3))
LIST = b"phone,First Name,Email,Company\n+14155550100,Ann,ann@x.io,Acme\n"


def test_a_renamed_column_reaches_the_agent_under_its_new_name() -> None:
    options = LoadOptions(renames=parse_renames(["first name=first_name"]))
    with open_contacts(io.BytesIO(LIST), name="leads.csv", options=options) as opened:
        contact = next(iter(next(opened.batches())[0]))
        assert opened.variable_columns == ("First Name", "Email", "Company")  # the headers
    assert contact.variables == {"first_name": "Ann", "Email": "ann@x.io", "Company": "Acme"}
    assert contact.row["First Name"] == "Ann", "the results keep the list's own header"


@pytest.mark.parametrize(
    ("given_", "said"),
    [
        (["First Name="], "'First Name' is given no new name"),
        (["First Name"], "is not COLUMN=NAME"),
        (["=x"], "is not COLUMN=NAME"),
    ],
)
def test_an_empty_rename_is_refused(given_: list[str], said: str) -> None:
    with pytest.raises(InputError, match=said) as caught:
        parse_renames(given_)
    assert caught.value.field == "rename" and str(caught.value).startswith("--rename: ")


@pytest.mark.parametrize(
    ("renames", "said"),
    [
        (
            (("First Name", "Email"),),
            "'First Name' and 'Email' would both reach the agent as 'Email'",
        ),
        ((("First Name", "x"), ("Email", "x")), "would both reach the agent as 'x'"),
        ((("Phone", "p"),), "'Phone' is not a column sent to the agent"),
        ((("First Name", "a"), ("first_name", "b")), "'first_name' is renamed twice"),
    ],
)
def test_a_rename_that_collides_or_names_no_variable_is_refused(
    renames: tuple[tuple[str, str], ...], said: str
) -> None:
    with pytest.raises(InputError, match=said) as caught:
        renamed(VARIABLES, renames, "leads.csv")
    assert caught.value.field == "rename" and "leads.csv" in str(caught.value)


def test_a_refused_rename_stops_the_list_when_it_opens() -> None:
    options = LoadOptions(renames=(("First Name", "Email"),))
    with pytest.raises(InputError, match="both reach the agent as 'Email'"):
        open_contacts(io.BytesIO(LIST), name="leads.csv", options=options)


NAMES = st.sampled_from(["a", "b", "c", "First Name", "Email", "email"])


@given(
    st.lists(NAMES, unique_by=str.lower, max_size=4),
    st.lists(st.tuples(NAMES, NAMES), max_size=4),
)
def test_renamed_matches_a_plain_model(columns: list[str], renames: list[tuple[str, str]]) -> None:
    """Either refused, or: each column once, under its new name if given, all names distinct."""
    variables = tuple((c, i) for i, c in enumerate(columns))
    by_key = {c.lower(): c for c in columns}
    new = {c: c for c in columns}
    ok = True
    for column, name in renames:
        own = by_key.get(column.lower())
        if own is None or new[own] != own:
            ok = False
            break
        new[own] = name
    ok = ok and len(set(new.values())) == len(new)
    try:
        got = renamed(variables, tuple(renames))
    except InputError:
        assert not ok
        return
    assert ok and got == tuple((new[c], i) for c, i in variables)
    assert dict(stored(columns, tuple(renames))) == {by_key[c.lower()]: n for c, n in renames}
