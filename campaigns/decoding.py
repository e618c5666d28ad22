"""A CSV file's bytes to text, as people's files come: UTF-8, mostly UTF-8, or something else.

1. A byte-order mark decides (UTF-8, UTF-16).
2. A file that decodes as UTF-8 throughout is UTF-8: nothing is guessed.
3. A file that is UTF-8 except for a few lines (one pasted from a Windows program) is read line
   by line: UTF-8, and Windows-1252 for the lines that are not, which are named in a warning.
4. A file with no UTF-8 line beyond ASCII is not UTF-8 at all: `charset-normalizer` tells its
   encoding from the lines that are not ASCII (Windows-1251 Cyrillic, Shift-JIS, ...), with
   Windows-1252, the most common, preferred whenever it reads as well.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip
FALLBACK = "cp1252"
SAMPLE_BYTES = 256 * 1024  # of lines that are not ASCII, to detect an encoding from
MIN_EVIDENCE = 8  # bytes beyond ASCII: with fewer, any single-byte encoding reads as well
# Encodings of spreadsheet exports; a short sample could otherwise pass for an exotic one.
CANDIDATES = (
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257",
    "cp1258", "koi8_r", "koi8_u", "iso8859_2", "iso8859_5", "iso8859_7", "iso8859_15",
    "mac_roman", "cp437", "cp850", "cp866", "cp932", "shift_jis", "gb18030", "big5",
    "euc_kr", "euc_jp",
)  # fmt: skip


@dataclass(frozen=True)
class Decoding:
    """How to decode a file: one codec, or UTF-8 with `FALLBACK` for the lines that are not."""

    encoding: str
    per_line: bool = False


def detect(source: BinaryIO, head: bytes) -> Decoding:
    """The decoding of a seekable file whose first bytes are `head`; leaves it at the start."""
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return Decoding(encoding)
    try:
        if _decodes(source, "utf-8"):
            return Decoding("utf-8")
        utf8_lines, sample = _survey(source)
        if utf8_lines:
            return Decoding("utf-8", per_line=True)
        return Decoding(_whole_file(source, sample))
    finally:
        source.seek(0)


def _decodes(source: BinaryIO, encoding: str) -> bool:
    source.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := source.read(1024 * 1024):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _survey(source: BinaryIO) -> tuple[bool, bytes]:
    """Whether any line beyond ASCII is UTF-8 and, until one is, a sample of those that are not."""
    source.seek(0)
    sample = bytearray()
    for line in source:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            if len(sample) < SAMPLE_BYTES:
                sample += line
        else:
            return True, b""
    return False, bytes(sample)


def _whole_file(source: BinaryIO, sample: bytes) -> str:
    """The encoding of a file that is not UTF-8: detected, else Windows-1252, else Latin-1."""
    guess = _detected(sample)
    for encoding in (guess, FALLBACK) if guess else (FALLBACK,):
        if _decodes(source, encoding):
            return encoding
    return "latin-1"  # decodes any byte


def _detected(sample: bytes) -> str | None:
    """The encoding `charset-normalizer` finds; None where Windows-1252 reads as well."""
    from charset_normalizer import from_bytes

    if sum(byte > 0x7F for byte in sample) < MIN_EVIDENCE:
        return None
    matches = from_bytes(sample, cp_isolation=list(CANDIDATES))
    best = matches.best()
    if best is None:
        return None
    for match in matches:
        as_good = match.chaos <= best.chaos and match.coherence >= best.coherence
        if as_good and FALLBACK in (match.encoding, *match.could_be_from_charset):
            return None
    return str(best.encoding)


class Lines:
    """A binary file's lines as text: UTF-8, `FALLBACK` for a line that is not.

    `fell_back` turns True when a line needed the fallback; the reader resets it.
    """

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.fell_back = False

    def __iter__(self) -> Iterator[str]:
        for line in self._source:
            try:
                yield line.decode("utf-8")
            except UnicodeDecodeError:
                self.fell_back = True
                yield fallback_text(line)


def fallback_text(line: bytes) -> str:
    """Windows-1252 text; its five unassigned bytes are taken as Latin-1 (C1 controls)."""
    return line.decode("latin-1").translate(_C1_AS_CP1252)


def _cp1252(byte: int) -> str:
    try:
        return bytes([byte]).decode(FALLBACK)
    except UnicodeDecodeError:
        return chr(byte)


# Latin-1 and Windows-1252 differ only in 0x80-0x9F.
_C1_AS_CP1252 = {byte: _cp1252(byte) for byte in range(0x80, 0xA0)}


def describe_rows(rows: list[int], limit: int = 10) -> str:
    """`row 3`, `rows 3, 7 and 9`, `rows 1, 2, ... and 40 more`."""
    shown = [str(r) for r in rows[:limit]]
    if len(rows) > limit:
        return f"rows {', '.join(shown)} and {len(rows) - limit:,} more"
    if len(shown) == 1:
        return f"row {shown[0]}"
    return f"rows {', '.join(shown[:-1])} and {shown[-1]}"
