"""`dialer run` shows its campaign live while the list still loads: a subprocess, its private
redis-server and worker, the simulator over HTTP, and a list whose later rows arrive only when
the test lets them (a hook on the reader, as `sitecustomize`). The load's summary and the
list's checks come when the load ends; Ctrl-C while it loads pauses and stops the load."""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialer.simulator.server import RunningSimulator
from tests.support import (
    DialerProcess,
    campaign_args,
    cli_env,
    creates_to,
    dialer_cli,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

# Rows come 5 at a time; after the first 5, none until the file DIALER_TEST_GO exists (the
# reader hands back empty batches meanwhile, as a slow disk would hand back nothing new); with
# DIALER_TEST_BREAK, the file then turns out to be broken.
SLOW_HOOK = """\
import os, time
from campaigns import contacts
from dialer.errors import InputError

_batches = contacts.ContactFile.batches

def batches(self, size=10_000):
    go, first = os.environ["DIALER_TEST_GO"], True
    for good, bad in _batches(self, size):
        for start in range(0, max(len(good), 1), 5):
            yield good[start:start + 5], bad if start == 0 else []
            while first and not os.path.exists(go):
                time.sleep(0.05)
                yield [], []
            if os.environ.get("DIALER_TEST_BREAK"):
                raise InputError("row 8: the file ends in the middle of a row", where="c.csv")
            first = False

contacts.ContactFile.batches = batches
"""

NUMBERS = [f"+1415555{3000 + i:04d}" for i in range(1, 21)]


def _slow_run(tmp: Path, sim: RunningSimulator, *extra: str, broken: bool = False) -> DialerProcess:
    hook = tmp / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SLOW_HOOK, encoding="utf-8")
    rows = ["phone,name", *(f"{n},p{i}" for i, n in enumerate(NUMBERS)), "not a phone,x"]
    (tmp / "c.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")]))
    env = {
        **cli_env(sim, tmp, DIALER_PROGRESS_EVERY_S="0.1"),
        "PYTHONPATH": path,
        "DIALER_TEST_GO": str(tmp / "go"),
        **({"DIALER_TEST_BREAK": "1"} if broken else {}),
    }
    return DialerProcess(campaign_args("run", "c.csv", "--rate", "20/s", *extra), env, tmp)


@contextlib.contextmanager
def _running(run: DialerProcess, tmp: Path) -> Iterator[DialerProcess]:
    """The run, its list let go and the run killed (its Redis and worker with it) however the
    test ends: a run left behind would follow a simulator that is gone."""
    try:
        yield run
    finally:
        (tmp / "go").touch()
        if run.process.poll() is None:
            run.kill_all()


def _dialled_while_loading(stdout: str) -> int:
    """The most the live lines said was dialled while they said the list was loading."""
    found = re.findall(r"loading the list: \d+ rows read so far, dialled (\d+)/", stdout)
    return max(map(int, found), default=0)


def test_the_live_view_shows_the_campaign_dialling_while_its_list_loads(
    simulator: RunningSimulator, tmp: Path
) -> None:
    with _running(_slow_run(tmp, simulator), tmp) as run:
        wait_until(
            lambda: _dialled_while_loading(run.stdout) >= 1 or run.process.poll() is not None,
            90,
            "a live line saying the list loads and someone was dialled",
        )
        said = run.stdout
        assert run.process.poll() is None, said + run.stderr
        assert "contacts to dial" not in said, "the summary came before the load ended"
        assert "Preflight endpoint" in said  # the checks that need no list: at once
        assert "Preflight countries" not in said  # the list's: when it is read
        (tmp / "go").touch()
        assert run.wait(120) == 0, run.stdout + run.stderr
    out = run.stdout
    assert "c.csv: 20 contacts to dial, 1 rejected." in out
    assert "rejected: not_a_number 1" in out
    assert "Preflight countries: ok: every contact is in US" in out
    assert out.index("loading the list") < out.index("Preflight quota") < out.index("20 contacts")
    assert Counter(creates_to(simulator.url)) == Counter(NUMBERS)  # everyone, once


def test_ctrl_c_while_the_list_loads_pauses_and_stops_the_load(
    simulator: RunningSimulator, tmp: Path
) -> None:
    with _running(_slow_run(tmp, simulator, "--campaign", "slow"), tmp) as run:
        wait_until(lambda: _dialled_while_loading(run.stdout) >= 1, 90, "the live line")
        run.signal_group(signal.SIGINT)  # what Ctrl-C at the terminal sends
        assert run.wait(60) == 130, run.stdout + run.stderr
    out = run.stdout
    assert "campaign slow is paused" in out
    assert "To resume: dialer run c.csv" in out
    assert "Traceback" not in out + run.stderr
    assert "contacts to dial" not in out  # the load stopped: no summary of a list not read
    dialled = len(creates_to(simulator.url))
    assert dialled < len(NUMBERS)
    env = cli_env(simulator, tmp)
    status = dialer_cli(["status", "slow"], env, cwd=tmp)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "paused" in status.stdout
    assert len(creates_to(simulator.url)) == dialled  # paused: nobody new


def test_a_list_that_breaks_while_the_live_view_shows_ends_in_one_line(
    simulator: RunningSimulator, tmp: Path
) -> None:
    with _running(_slow_run(tmp, simulator, "--campaign", "broken", broken=True), tmp) as run:
        wait_until(lambda: _dialled_while_loading(run.stdout) >= 1, 90, "the live line")
        (tmp / "go").touch()
        assert run.wait(60) == 2, run.stdout + run.stderr
    errors = [line for line in run.stderr.splitlines() if "error:" in line]
    assert errors == ["error: c.csv: row 8: the file ends in the middle of a row"], run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    status = dialer_cli(["status", "broken"], cli_env(simulator, tmp), cwd=tmp)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "paused" in status.stdout  # a load that failed pauses what it started
