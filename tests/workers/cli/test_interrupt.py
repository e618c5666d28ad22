"""Ctrl-C and SIGTERM on an attached `dialer run`: the campaign is paused at once (no create
after it at the simulator), the run says how to resume or cancel and exits 130/143; resuming
dials the rest, nobody twice. With DIALER_REDIS_URL, its separate workers stop dialling too."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from dialer.campaign import CampaignState
from dialer.simulator.server import RunningSimulator
from tests.support import (
    DialerProcess,
    Stack,
    campaign_args,
    cli_env,
    creates_to,
    dialer_cli,
    wait_until,
)

pytestmark = pytest.mark.integration

NUMBERS = [f"+1415555{2000 + i:04d}" for i in range(1, 9)]


def _contacts(path: Path, numbers: list[str]) -> None:
    lines = ["phone,first_name", *(f"{n},name {i}" for i, n in enumerate(numbers, 1))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _started(sim: RunningSimulator, args: list[str], env: dict[str, str], tmp: Path):  # type: ignore[no-untyped-def]
    """A `dialer run` in the background, once it has placed two calls."""
    running = DialerProcess(args, env, tmp)
    wait_until(lambda: len(creates_to(sim.url)) >= 2 or running.process.poll() is not None,
               60, "two calls placed")  # fmt: skip
    assert running.process.poll() is None, running.stdout + running.stderr
    return running


def _paused_id(stdout: str) -> str:
    found = re.search(r"campaign (\S+) is paused", stdout)
    assert found, stdout
    return found.group(1)


@pytest.mark.timeout(180)
def test_ctrl_c_pauses_says_how_to_resume_and_the_same_command_resumes(
    simulator: RunningSimulator, tmp: Path
) -> None:
    _contacts(tmp / "contacts.csv", NUMBERS)
    args = campaign_args("run", "contacts.csv", "--rate", "2/s")
    env = cli_env(simulator, tmp)
    running = _started(simulator, args, env, tmp)

    running.signal_group(signal.SIGINT)  # what Ctrl-C at the terminal sends
    assert running.wait() == 130
    out = running.stdout
    cid = _paused_id(out)
    assert "To resume: dialer run contacts.csv" in out
    assert f"dialer cancel {cid}" in out
    assert "Traceback" not in out + running.stderr
    dialled = len(creates_to(simulator.url))
    assert dialled < len(NUMBERS)

    listed = dialer_cli(["status"], env, cwd=tmp)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    line = next(row for row in listed.stdout.splitlines() if cid[:20] in row)
    assert "paused" in line

    again = dialer_cli(args, env, cwd=tmp)  # the command it printed
    assert again.returncode == 0, again.stdout + again.stderr
    assert Counter(creates_to(simulator.url)) == Counter(NUMBERS)  # the rest, nobody twice


@pytest.mark.timeout(120)
def test_sigterm_pauses_and_exits_143(simulator: RunningSimulator, tmp: Path) -> None:
    _contacts(tmp / "contacts.csv", NUMBERS)
    args = campaign_args("run", "contacts.csv", "--rate", "2/s")
    running = _started(simulator, args, cli_env(simulator, tmp), tmp)
    running.process.terminate()  # SIGTERM to `dialer` alone, as `kill PID` does
    assert running.wait() == 143
    assert "SIGTERM" in running.stdout
    _paused_id(running.stdout)


@pytest.mark.timeout(180)
def test_ctrl_c_with_separate_workers_stops_their_dialling(
    stack: Stack, sim: RunningSimulator, tmp_path: Path
) -> None:
    stack.worker()
    stack.wait_ready(1)
    numbers = [f"+1415555{3000 + i:04d}" for i in range(1, 21)]
    _contacts(tmp_path / "contacts.csv", numbers)
    env = {**cli_env(sim, tmp_path), "DIALER_REDIS_URL": stack.env["DIALER_REDIS_URL"]}
    args = campaign_args("run", "contacts.csv", "--rate", "4/s")
    running = _started(sim, args, env, tmp_path)

    running.signal_group(signal.SIGINT)
    assert running.wait() == 130
    cid = _paused_id(running.stdout)
    assert f"dialer resume {cid}" in running.stdout
    assert stack.store.campaign_state(cid) is CampaignState.PAUSED
    # A claim won just before the pause may still send its create; then nothing more.
    wait_until(lambda: stack.store.counts(cid).get("dialing", 0) == 0, 30, "claims to settle")
    dialled = len(creates_to(sim.url))
    time.sleep(3)  # at 4/s, a dozen more creates would come if the workers went on dialling
    assert len(creates_to(sim.url)) == dialled < len(numbers)
