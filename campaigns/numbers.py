"""Phone numbers of a batch of rows to E.164, here or on the machine's other core.

Normalising is most of the CPU a large contacts file costs, and it needs only the phone column:
`NumberProcess` does it in a child process (`python -m campaigns.numbers`) while this process
reads and checks the next rows. Batches go out and come back in order; a child that dies is
replaced by normalising here, so a load never depends on it.

A batch comes back as `Found`: the E.164 numbers found, which rows they belong to, and why each
other row has none.
"""

from __future__ import annotations

import contextlib
import marshal
import queue
import struct
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from dialer.errors import InvalidNumber
from dialer.phone import normalize

Failure = tuple[str, str]  # the reason and message of an `InvalidNumber`
_LENGTH = struct.Struct("<I")
_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Found:
    """A batch's numbers: `phones` in row order for the rows whose `mask` byte is 1."""

    phones: list[str]
    mask: bytes
    failures: dict[int, Failure]  # by row index in the batch, for the other rows

    def results(self) -> list[str | Failure]:
        """Every row's E.164 or failure, in row order."""
        phones = iter(self.phones)
        return [next(phones) if ok else self.failures[i] for i, ok in enumerate(self.mask)]


def normalize_all(phones: list[str], regions: list[str] | str) -> Found:
    """Each phone's E.164 or its failure; `regions` is one region for all, or one per phone."""
    if isinstance(regions, str):
        regions = [regions] * len(phones)
    found: list[str] = []
    mask = bytearray(len(phones))
    failures: dict[int, Failure] = {}
    for i, (phone, region) in enumerate(zip(phones, regions, strict=True)):
        try:
            found.append(normalize(phone, region))
        except InvalidNumber as exc:
            failures[i] = (exc.reason, str(exc))
        else:
            mask[i] = 1
    return Found(found, bytes(mask), failures)


def failure(result: Failure) -> InvalidNumber:
    """The `InvalidNumber` a failure stands for."""
    reason, message = result
    return InvalidNumber(message, reason=reason)


class Numbers(Protocol):
    """Normalises batches in the order they are sent."""

    def send(self, phones: list[str], regions: list[str] | str) -> None:
        """Queue one batch."""

    def receive(self) -> Found:
        """The results of the oldest batch not yet received."""

    def close(self) -> None:
        """Stop (batches not received are dropped)."""


class NumbersHere:
    """Normalises in this process, when asked for the results."""

    def __init__(self) -> None:
        self._queued: deque[tuple[list[str], list[str] | str]] = deque()

    def send(self, phones: list[str], regions: list[str] | str) -> None:
        self._queued.append((phones, regions))

    def receive(self) -> Found:
        return normalize_all(*self._queued.popleft())

    def close(self) -> None:
        self._queued.clear()


def numbers_elsewhere() -> Numbers:
    """A `NumberProcess`, or normalising here when no child process can be started."""
    try:
        return NumberProcess()
    except OSError:
        return NumbersHere()


class NumberProcess:
    """Normalises in a child process; a thread writes batches so that reading never waits on it."""

    def __init__(self) -> None:
        self._child = subprocess.Popen(
            [sys.executable, "-m", "campaigns.numbers"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a crash is handled here, not shown
            cwd=_ROOT,  # importable from here even when the package is not installed
        )
        self._sent: deque[tuple[list[str], list[str] | str]] = deque()
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write, name="numbers-writer", daemon=True)
        self._writer.start()
        self._failed = False

    def send(self, phones: list[str], regions: list[str] | str) -> None:
        self._sent.append((phones, regions))
        self._outbox.put(marshal.dumps((phones, regions)))

    def receive(self) -> Found:
        phones, regions = self._sent.popleft()
        if not self._failed:
            try:
                return Found(*marshal.loads(_read_frame(self._stdout)))  # noqa: S302 (our child)
            except (OSError, EOFError, ValueError, TypeError):
                self._failed = True  # the child is gone: the rest is done here
        return normalize_all(phones, regions)

    def close(self) -> None:
        # Closing its stdout first ends a child blocked on writing results nobody will read,
        # which in turn frees the writer if it is blocked on the child's stdin.
        self._outbox.put(None)
        self._stdout.close()
        try:
            self._child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()
        self._writer.join()

    @property
    def _stdout(self) -> IO[bytes]:
        assert self._child.stdout is not None
        return self._child.stdout

    def _write(self) -> None:
        stdin = self._child.stdin
        assert stdin is not None
        try:
            while (frame := self._outbox.get()) is not None:
                stdin.write(_LENGTH.pack(len(frame)) + frame)
                stdin.flush()
        except OSError:
            pass  # the child is gone; `receive` notices
        finally:
            with contextlib.suppress(OSError):
                stdin.close()


def _read_frame(stream: IO[bytes]) -> bytes:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError("the numbers process ended")
    (size,) = _LENGTH.unpack(head)
    frame = stream.read(size)
    if len(frame) < size:
        raise EOFError("the numbers process ended mid-batch")
    return frame


def main() -> None:
    """The child: batches in on stdin, results out on stdout, until stdin closes."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            phones, regions = marshal.loads(_read_frame(stdin))  # noqa: S302 (our parent)
        except EOFError:
            return
        found = normalize_all(phones, regions)
        frame = marshal.dumps((found.phones, found.mask, found.failures))
        stdout.write(_LENGTH.pack(len(frame)) + frame)
        stdout.flush()


if __name__ == "__main__":
    main()
