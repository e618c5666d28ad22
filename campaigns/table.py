"""A table as the readers give it: a header and a stream of rows of cell texts."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field


@dataclass
class Table:
    """A header and a stream of data rows, each a list of cell texts.

    `warnings` grows as the rows stream (rows that needed a fallback encoding are known only
    once read): read it after the rows.
    """

    header: list[str]
    rows: Generator[list[str], None, None]
    encoding: str
    delimiter: str | None = None
    sheet: str | None = None
    sheets: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)
