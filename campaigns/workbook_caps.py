"""A workbook's cells and rows, capped before `openpyxl` opens it: memory bounded whatever the file.

`openpyxl` holds each cell's text whole (and every shared string at once), so one 300 MiB cell in
a 4 MB file (70 to 1, inside the zip-bomb limits) costs a gigabyte. Before it opens the
workbook, its shared strings and sheets are streamed through expat in small pieces, counting
each text's length and the rows, holding none of it: a cell longer than Excel's own limit
(32,767 characters) or a sheet longer than Excel's (1,048,576 rows) is refused, naming the file,
the part and the row. Entity declarations are refused too (as `defusedxml` does).
"""

from __future__ import annotations

import re
import zipfile
from typing import BinaryIO
from xml.parsers import expat

from dialer.errors import InputError

MAX_CELL_CHARS = 32_767  # Excel's own limit for a cell
MAX_ROWS = 1_048_576  # Excel's own limit for a sheet
PIECE = 64 * 1024
_PARTS = re.compile(r"^xl/(sharedStrings\.xml|worksheets/[^/]+\.xml)$")


class _Over(Exception):
    """A cap passed: why, in words."""


class _Counter:
    """Expat handlers counting the length of each text element and the rows, keeping nothing."""

    def __init__(self) -> None:
        self.rows, self.text, self.inside = 0, 0, 0
        self.row = 0  # the row's number as Excel shows it (blank rows are not in the XML)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = tag.rsplit("}", 1)[-1]
        if local == "row":
            self.rows += 1
            number = attrs.get("r", "")
            self.row = int(number) if number.isdecimal() else self.row + 1
            if self.rows > MAX_ROWS:
                raise _Over(f"it has more than {MAX_ROWS:,} rows (Excel's limit)")
        elif local in ("t", "v"):
            self.inside, self.text = self.inside + 1, 0

    def end(self, tag: str) -> None:
        if tag.rsplit("}", 1)[-1] in ("t", "v"):
            self.inside = max(self.inside - 1, 0)

    def data(self, text: str) -> None:
        if self.inside:
            self.text += len(text)
            if self.text > MAX_CELL_CHARS:
                where = f" (row {self.row})" if self.row else ""
                raise _Over(
                    f"a cell{where} is longer than {MAX_CELL_CHARS:,} characters (Excel's limit)"
                )

    @staticmethod
    def entity(*args: object) -> None:
        raise _Over("its XML declares entities, which no workbook needs")


def check_cells(source: BinaryIO, name: str) -> None:
    """Refuse a workbook with a cell or a sheet beyond Excel's own limits (an InputError)."""
    try:
        with zipfile.ZipFile(source) as archive:
            for entry in archive.infolist():
                if _PARTS.match(entry.filename):
                    _scan(archive, entry.filename, name)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, expat.ExpatError):
        return  # not this check's to explain: opening the workbook will say what is wrong
    finally:
        source.seek(0)


def _scan(archive: zipfile.ZipFile, part: str, name: str) -> None:
    counter = _Counter()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = counter.start
    parser.EndElementHandler = counter.end
    parser.CharacterDataHandler = counter.data
    parser.EntityDeclHandler = counter.entity
    parser.buffer_text = False
    try:
        with archive.open(part) as stream:
            while piece := stream.read(PIECE):
                parser.Parse(piece, False)
            parser.Parse(b"", True)
    except _Over as why:
        raise InputError(
            f"refused: {part}: {why}; if the workbook is genuine, save it as CSV", where=name
        ) from None
