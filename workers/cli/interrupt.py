"""Ctrl-C and SIGTERM on an attached run: the campaign is paused, never left dialling.

While `interrupts_raise()` holds, SIGINT and SIGTERM raise `Interrupted` in the main thread
(the rich Live display's context exits on it, which restores the terminal). The first signal
is the one that counts: later ones are ignored while the run pauses its campaign, so a second
Ctrl-C cannot cut that short and leave the campaign running; once it is paused, another one
quits at once (`quit_on_next`) instead of waiting for the workers to stop.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from types import FrameType

# What a shell reports for a process ended by the signal: 128 + its number.
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


class Interrupted(Exception):
    """The run was interrupted by a signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(NAMES.get(signal.Signals(signum), str(signum)))
        self.signum = signal.Signals(signum)

    @property
    def exit_code(self) -> int:
        """130 for SIGINT, 143 for SIGTERM."""
        return EXIT_CODES.get(self.signum, 128 + int(self.signum))

    @property
    def name(self) -> str:
        """How a person calls the signal."""
        return NAMES.get(self.signum, self.signum.name)


def _raise(signum: int, frame: FrameType | None) -> None:
    for caught in EXIT_CODES:
        signal.signal(caught, signal.SIG_IGN)  # the first signal wins; see the docstring
    raise Interrupted(signum)


@contextlib.contextmanager
def interrupts_raise() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Interrupted` in the block; the old handlers come back after."""
    previous = {signum: signal.signal(signum, _raise) for signum in EXIT_CODES}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def quit_on_next() -> None:
    """From now on, SIGINT or SIGTERM ends the process at once (its embedded Redis and worker
    get SIGTERM as it dies, and stop cleanly)."""

    def leave(signum: int, frame: FrameType | None) -> None:
        os._exit(EXIT_CODES.get(signal.Signals(signum), 128 + signum))

    for signum in EXIT_CODES:
        signal.signal(signum, leave)
