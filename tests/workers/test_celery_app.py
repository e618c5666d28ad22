"""The worker process's own settings (workers.celery_app)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from celery import signals

from dialer.pace import SWITCH_INTERVAL_S
from workers import celery_app


@pytest.fixture
def switch_interval() -> Iterator[None]:
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("switch_interval")
def test_a_ready_worker_hands_the_interpreter_over_promptly() -> None:
    """A thread the send guard let through waits at most SWITCH_INTERVAL_S for the interpreter
    (not Python's 5 ms) before its create goes out."""
    sys.setswitchinterval(0.005)
    live = [receiver() for _, receiver in signals.worker_ready.receivers]
    assert celery_app._prompt_handoff in live
    celery_app._prompt_handoff()
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)
    assert SWITCH_INTERVAL_S < 0.005
