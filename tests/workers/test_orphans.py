"""A `dialer run` killed half-way leaves its campaign unfinished in the state folder; the next
`dialer run` of another list does not dial it (its embedded worker serves only its own
campaign), names it with how to resume or cancel, and `dialer status` lists both."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from dialer.simulator.server import RunningSimulator
from tests.support import (
    DialerProcess,
    campaign_args,
    cli_env,
    creates_to,
    dialer_cli,
    state_folder_free,
    wait_until,
)

pytestmark = pytest.mark.integration

FIRST = [f"+1415555{5000 + i:04d}" for i in range(1, 11)]
SECOND = [f"+1212555{6000 + i:04d}" for i in range(1, 4)]


def _contacts(path: Path, numbers: list[str]) -> None:
    path.write_text("phone\n" + "\n".join(numbers) + "\n", encoding="utf-8")


@pytest.mark.timeout(180)
def test_a_killed_runs_campaign_waits_while_another_list_is_run(
    simulator: RunningSimulator, tmp: Path
) -> None:
    _contacts(tmp / "first.csv", FIRST)
    _contacts(tmp / "second.csv", SECOND)
    env = cli_env(simulator, tmp)
    killed = DialerProcess(campaign_args("run", "first.csv", "--rate", "2/s"), env, tmp)
    wait_until(lambda: len(creates_to(simulator.url)) >= 2, 60, "two calls of the first list")
    killed.kill_all()  # a crash: nothing is said, nothing paused
    wait_until(lambda: state_folder_free(tmp / "state"), 30, "the killed run's stack to end")
    before = Counter(creates_to(simulator.url, set(FIRST)))

    second = dialer_cli(campaign_args("run", "second.csv", "--rate", "20/s"), env, cwd=tmp)
    assert second.returncode == 0, second.stdout + second.stderr
    assert Counter(creates_to(simulator.url, set(SECOND))) == Counter(SECOND)
    assert Counter(creates_to(simulator.url, set(FIRST))) == before  # the orphan waited
    out = second.stdout
    assert "Not dialled by this run" in out and "first-" in out
    left = re.search(r"first-\S+ \(.*first.csv, running\), (\d+) contacts left", out)
    assert left, out  # not final yet: never dialled, or calls of the killed run to follow
    assert len(FIRST) - sum(before.values()) <= int(left.group(1)) <= len(FIRST)
    assert "dialer cancel first-" in out

    listed = dialer_cli(["status"], env, cwd=tmp)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    rows = [line for line in listed.stdout.splitlines() if "first-" in line or "second-" in line]
    assert len(rows) == 2, listed.stdout
    assert "running" in next(r for r in rows if "first-" in r)
    assert "done" in next(r for r in rows if "second-" in r)


def test_a_worker_that_serves_one_campaign_drops_tasks_of_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A dial task left queued by a killed run is not done by the next run's worker (the tick
    filter alone cannot stop a message already in the queue)."""
    from workers import resources, tasks

    monkeypatch.setenv("DIALER_SERVE_ONLY", "mine")
    monkeypatch.delenv("DIALER_REDIS_URL", raising=False)
    resources.serve_only.cache_clear()
    resources.dispatcher.cache_clear()
    try:
        # No Redis is configured: a task that went on would fail building its dispatcher.
        tasks.dial.run("someone-elses", [1, 2])
        tasks.follow.run("someone-elses", [1])
        with pytest.raises(Exception, match="DIALER_REDIS_URL"):
            tasks.dial.run("mine", [1])
    finally:
        resources.serve_only.cache_clear()
        resources.dispatcher.cache_clear()
