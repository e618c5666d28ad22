"""What `dialer run` says when things go wrong, with real processes: an impossible results path
is refused before any create; the same made impossible mid-run does not stop the dialling;
Redis stopping mid-run ends the run in one line and a documented exit code, then resuming
finishes with nobody dialled twice."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from dialer.simulator.server import RunningSimulator
from tests.support import (
    DialerProcess,
    campaign_args,
    cli_env,
    creates_to,
    descendants,
    dialer_cli,
    wait_until,
)
from workers.cli.run import EXIT_ABORTED, EXIT_REDIS_GONE, EXIT_RESULTS_UNWRITTEN

pytestmark = pytest.mark.integration


def _contacts(tmp: Path, count: int) -> set[str]:
    numbers = [f"+1415555{1000 + i}" for i in range(count)]
    (tmp / "contacts.csv").write_text("phone\n" + "\n".join(numbers) + "\n", encoding="utf-8")
    return set(numbers)


@pytest.mark.timeout(120)
def test_a_folder_replaced_by_a_file_is_refused_before_any_create(
    simulator: RunningSimulator, tmp: Path
) -> None:
    _contacts(tmp, 2)
    (tmp / "out").write_text("a file, not a folder")
    args = campaign_args("run", "contacts.csv", "--results", "out/results.csv")
    done = dialer_cli(args, cli_env(simulator, tmp), cwd=tmp)
    assert done.returncode == EXIT_ABORTED, done.stdout + done.stderr
    assert "out is a file, not a folder: choose another path for results.csv" in done.stdout
    assert creates_to(simulator.url) == []
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.timeout(180)
def test_results_unwritable_mid_run_do_not_stop_the_dialling(
    simulator: RunningSimulator, tmp: Path
) -> None:
    numbers = _contacts(tmp, 12)
    (tmp / "out").mkdir()
    args = campaign_args("run", "contacts.csv", "--rate", "1/s", "--results", "out/results.csv")
    run = DialerProcess(args, cli_env(simulator, tmp), tmp)
    wait_until(lambda: len(creates_to(simulator.url)) >= 1, 60, "the first create")
    shutil.rmtree(tmp / "out")
    (tmp / "out").write_text("the folder became a file")
    code = run.wait(120)
    assert code == EXIT_RESULTS_UNWRITTEN, run.stdout + run.stderr
    assert sorted(creates_to(simulator.url)) == sorted(numbers)  # everyone, once
    assert "Warning: results not written to out/results.csv (Not a directory)" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


@pytest.mark.timeout(240)
def test_redis_gone_mid_run_is_one_line_then_resume_finishes(
    simulator: RunningSimulator, tmp: Path
) -> None:
    numbers = _contacts(tmp, 10)
    env = cli_env(simulator, tmp)
    args = campaign_args("run", "contacts.csv", "--rate", "1/s", "--campaign", "gone")
    run = DialerProcess(args, env, tmp)
    wait_until(lambda: len(creates_to(simulator.url)) >= 2, 60, "two creates")
    redis_pids = [p for p in descendants(run.process.pid) if _is_redis(p)]
    assert redis_pids
    for pid in redis_pids:
        os.kill(pid, signal.SIGKILL)
    code = run.wait(120)
    said = run.stdout + run.stderr
    assert code == EXIT_REDIS_GONE, said
    assert "Traceback" not in said
    gone = [line for line in said.splitlines() if "Redis stopped answering" in line]
    assert len(gone) == 1 and "To resume:" in gone[0], said
    wait_until(lambda: not any(_is_redis(p) for p in descendants(run.process.pid)), 60, "stack")
    again = dialer_cli(args, env, cwd=tmp, timeout=180)
    assert again.returncode == 0, again.stdout + again.stderr
    dialled = creates_to(simulator.url)
    assert sorted(set(dialled)) == sorted(numbers)
    assert len(dialled) == len(set(dialled)), "somebody was dialled twice"


def _is_redis(pid: int) -> bool:
    try:
        return "redis-server" in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return False


@pytest.mark.timeout(180)
def test_an_outage_is_shown_in_status_and_the_plain_line(
    simulator: RunningSimulator, tmp: Path
) -> None:
    _contacts(tmp, 3)
    simulator.stop()  # OneInbox unreachable: connection refused
    env = cli_env(simulator, tmp, DIALER_PROGRESS_EVERY_S="0.2")
    args = campaign_args("run", "contacts.csv", "--campaign", "out", "--no-preflight")
    run = DialerProcess(args, env, tmp)
    try:
        run.wait_for_stack(tmp / "state")  # a `status` before it would start its own Redis

        def shown() -> bool:
            said = dialer_cli(["status", "out"], env, cwd=tmp).stdout
            return "OneInbox unreachable since" in said

        wait_until(shown, 90, "the outage in `dialer status`", every=1.0)
        wait_until(lambda: "OneInbox unreachable since" in run.stdout, 30, "the plain line")
    finally:
        run.signal_group(signal.SIGINT)
        run.wait(60)
    line = next(x for x in run.stdout.splitlines() if "OneInbox unreachable" in x)
    assert " out running: " in line and "connection" in line and "ETA " in line
