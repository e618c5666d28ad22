"""What `dialer run` and `dialer status` show while a campaign runs, without a terminal (as under
cron, nohup or CI): the campaign id at once, plain progress lines, the real recent pace, who waits
and until when, paused without an ETA, dialled = contacts with a create; then pause, cancel (exit
3) and a finished campaign that refuses to be steered. A real `dialer run` (private Redis, a real
worker) against the simulator over HTTP."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from campaigns.estimate import Rates, finish
from campaigns.progress import Progress, Waiting, recent_pace
from dialer.campaign import CampaignConfig, CampaignState
from dialer.simulator.server import RunningSimulator
from tests.support import (
    campaign_args,
    cli_env,
    dialer_cli,
    dialer_env,
    dialer_exe,
    sim_get,
    wait_until,
)
from workers.cli import display

pytestmark = pytest.mark.timeout(180)


def _creates(sim: RunningSimulator) -> list[dict[str, Any]]:
    return [c for c in sim_get(sim.url, "creates") if c["call_id"]]  # type: ignore[union-attr]


def _pace(text: str) -> float:
    found = re.search(r"pace (\d+\.\d+)/s", text)
    assert found, text
    return float(found.group(1))


@pytest.mark.integration
def test_a_run_without_a_terminal_says_who_waits_and_is_steered_to_a_cancel(
    simulator: RunningSimulator, tmp: Path
) -> None:
    # The window opens in two hours for recipients in UTC and is open now two hours east.
    hour = datetime.now(UTC).hour
    window = f"{(hour + 2) % 24:02d}:00-{(hour + 3) % 24:02d}:00"
    rows = [f"+1415555{3000 + i:04d},Etc/GMT-2" for i in range(4)]
    rows += [f"+1415555{3100 + i:04d},UTC" for i in range(3)]
    (tmp / "c.csv").write_text("phone,timezone\n" + "\n".join(rows) + "\n")
    env = cli_env(simulator, tmp, DIALER_PROGRESS_EVERY_S="0.2")
    args = campaign_args("run", "c.csv", "--campaign", "w1", "--rate", "2/s", "--window", window)
    run = subprocess.Popen(
        [dialer_exe(), *args], env=dialer_env(env), cwd=tmp, stdout=subprocess.PIPE, text=True
    )
    try:
        assert run.stdout is not None
        first = run.stdout.readline()
        assert first.startswith("Campaign w1"), first  # at once, before anything else
        wait_until(lambda: len(_creates(simulator)) >= 4, 60, "the four open-window creates")

        def settled() -> bool:
            line = dialer_cli(["status", "w1"], env, cwd=tmp).stdout
            return "done 4/7" in line

        wait_until(settled, 60, "the four calls to end", every=0.5)
        status = dialer_cli(["status", "w1"], env, cwd=tmp).stdout
        opens = f"{(hour + 2) % 24:02d}:00 UTC"
        assert "dialled 4/7" in status
        assert f"3 wait for their window (next at {opens})" in status
        assert f"next dial at {opens}" in status
        assert 0 < _pace(status) <= 2.0

        assert dialer_cli(["pause", "w1"], env, cwd=tmp).returncode == 0
        paused = dialer_cli(["status", "w1"], env, cwd=tmp).stdout
        assert "w1 paused:" in paused and "ETA paused: no ETA" in paused

        cancelled = dialer_cli(["cancel", "w1"], env, cwd=tmp)
        assert cancelled.returncode == 0, cancelled.stderr
        assert "3 contacts will not be dialled" in cancelled.stdout
        assert "transition" not in cancelled.stderr  # one summary, no line per contact
        out, _ = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        if run.stdout is not None:
            run.stdout.close()
    assert run.returncode == 3, out
    lines = [line for line in out.splitlines() if line.strip()]
    progress = [line for line in lines if " w1 " in line and "dialled" in line]
    assert len(progress) >= 2, out
    assert all(_pace(line) <= 2.0 for line in progress)
    assert all(" ETA " in line for line in progress)  # each a whole line: never hard-wrapped
    assert "canceled:" in progress[-1] and "canceled 3" in progress[-1]
    assert "dialled 4/7" in progress[-1]  # the cancelled three were never dialled
    assert any("Summary" in line for line in lines)

    after = dialer_cli(["status", "w1"], env, cwd=tmp).stdout
    assert "dialled 4/7" in after
    resumed = dialer_cli(["resume", "w1"], env, cwd=tmp)
    assert resumed.returncode == 2 and "was cancelled: nothing to resume" in resumed.stderr
    assert len(_creates(simulator)) == 4


@pytest.mark.integration
def test_the_last_line_of_a_finished_run_says_done(simulator: RunningSimulator, tmp: Path) -> None:
    (tmp / "c.csv").write_text("phone\n+14155550141\n+14155550142\n+14155550143\n")
    env = cli_env(simulator, tmp, DIALER_PROGRESS_EVERY_S="0.2")
    args = campaign_args("run", "c.csv", "--campaign", "d1", "--rate", "20/s")
    done = dialer_cli(args, env, cwd=tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    progress = [line for line in done.stdout.splitlines() if " d1 " in line and "dialled" in line]
    assert progress and "d1 done:" in progress[-1] and "done 3/3" in progress[-1]
    assert all(_pace(line) <= 20.0 for line in progress)
    again = dialer_cli(["pause", "d1"], env, cwd=tmp)
    assert again.returncode == 2 and "d1 has finished: nothing to pause" in again.stderr


def test_the_pace_shown_is_measured_between_creates_and_never_above_the_limit() -> None:
    assert recent_pace([], 10_000, 1.0) == 0.0
    assert recent_pace([9_990], 10_000, 1.0) == 0.0  # one create is no pace yet
    # Two creates a slot apart, seen 10 ms after the second: one gap of 1.01 s, under 1/s.
    assert recent_pace([8_990, 10_000], 10_010, 1.0) == pytest.approx(1 / 1.02)
    # Bunched stamps (clock jitter between workers) never read above the limit.
    assert recent_pace([9_000, 9_500, 10_000], 10_000, 1.0) == 1.0
    # Creates that stopped: the pace decays as time passes without new ones.
    assert recent_pace([0, 1_010, 2_020], 20_000, 1.0) == pytest.approx(0.1)


def _progress(state: CampaignState, **counts: int) -> Progress:
    at = datetime(2030, 1, 2, 15, 0, tzinfo=UTC)  # not today: shown with its date
    waiting = (Waiting("for their window", 14, at),)
    seen = Progress(state, 20, counts, dialled=6, pace_per_s=0.5, waiting=waiting)
    config = CampaignConfig.model_validate(
        {"campaign_id": "t", "agent_id": "a", "from_number": "+14155550100", "rate_per_s": 1.0}
    )
    return replace(seen, finish=finish(seen, config, datetime(2030, 1, 1, tzinfo=UTC), Rates()))


def test_the_live_table_shows_waiting_pace_and_no_eta_while_paused() -> None:
    config = CampaignConfig.model_validate(
        {"campaign_id": "t", "agent_id": "a", "from_number": "+14155550100", "rate_per_s": 1.0}
    )
    running = dict(
        display.figures(_progress(CampaignState.RUNNING, pending=14, completed=6), config)
    )
    assert running["dialled"] == "6"
    assert running["waiting"] == "14 wait for their window, next at 2030-01-02 15:00 UTC"
    assert running["ETA"].startswith("nobody due now; next dial at 2030-01-02 15:00 UTC; ~")
    assert "limited by 14 contacts waiting for their window" in running["ETA"]
    assert running["pace"].startswith("0.50 calls/s")
    paused = dict(display.figures(_progress(CampaignState.PAUSED, pending=14, completed=6), config))
    assert paused["ETA"] == "paused: no ETA until it is resumed"
    done = _progress(CampaignState.RUNNING, completed=20)
    assert done.shown_state == "done"  # the last frame, before the flag catches up
    console = Console(record=True, width=100)
    console.print(display.progress_table(done, config))
    assert "(done)" in console.export_text() and "(running)" not in console.export_text()
