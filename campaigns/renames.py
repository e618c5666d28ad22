"""Variables renamed: a column sent to the agent under another name.

`--rename "First Name=first_name"` (repeatable; the page's "sent as" boxes) changes only the
name the agent receives (`{{first_name}}`); the results file keeps the list's own headers.
A column is found as the other options find one (without case, space or `_-.` differences).
"""

from __future__ import annotations

from collections.abc import Sequence

from campaigns.columns import key
from dialer.errors import InputError

Renames = tuple[tuple[str, str], ...]  # (column as given, new name), in the order given
Variables = tuple[tuple[str, int], ...]  # (name, index in the row), as `columns.Layout` has them
OPTION = "--rename"


def parse_renames(given: Sequence[str] | None) -> Renames:
    """Each `COLUMN=NAME` as a pair; an InputError naming the option when a side is empty."""
    pairs = []
    for text in given or ():
        column, sep, new = (part.strip() for part in text.partition("="))
        if not sep or not column:
            raise _refused(f"{text!r} is not COLUMN=NAME (like 'First Name=first_name')")
        if not new:
            raise _refused(f"{column!r} is given no new name: write {column}=NAME")
        pairs.append((column, new))
    return tuple(pairs)


def renamed(variables: Variables, renames: Renames, name: str = "") -> Variables:
    """The variables under their new names; refused (naming the column) when a rename names
    no variable, renames one twice, or gives two variables one name."""
    if not renames:
        return variables
    keys = [key(column) for column, _ in variables]
    new_names = [column for column, _ in variables]
    for column, new in renames:
        if key(column) not in keys:
            sent = ", ".join(repr(c) for c, _ in variables) or "none"
            raise _refused(f"{column!r} is not a column sent to the agent (those are {sent})", name)
        at = keys.index(key(column))
        if new_names[at] != variables[at][0]:
            raise _refused(f"{column!r} is renamed twice", name)
        new_names[at] = new
    _refuse_collisions(variables, new_names, name)
    return tuple((new, index) for new, (_, index) in zip(new_names, variables, strict=True))


def _refuse_collisions(variables: Variables, new_names: list[str], name: str) -> None:
    owner: dict[str, str] = {}
    for new, (column, _) in zip(new_names, variables, strict=True):
        other = owner.setdefault(new, column)
        if other != column:
            raise _refused(
                f"{other!r} and {column!r} would both reach the agent as {new!r}: "
                "give each variable its own name",
                name,
            )


def _refused(text: str, name: str = "") -> InputError:
    return InputError(f"{OPTION}: {text}", where=name, field="rename")


def stored(variable_columns: Sequence[str], renames: Renames) -> Renames:
    """The renames as a campaign keeps them: (the variable's own header, its new name). A
    rename naming no variable is left out (`renamed` refuses it when the list is read)."""
    headers = {key(column): column for column in variable_columns}
    return tuple((headers[key(c)], new) for c, new in renames if key(c) in headers)
