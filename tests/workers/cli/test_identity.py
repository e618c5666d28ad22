"""A contact is its number whatever the edit (issue 21), with real processes: `dialer run` and
`dialer retry` as subprocesses with their own redis-server and worker, the simulator over HTTP.
New rows at the top and a re-sort after a finished run and after a kill -9; contacts held by the
re-call gap end `expired` at the deadline; a retry run right after its campaign dials at once."""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dialer.client import OneInboxClient
from dialer.http import make_http_client
from dialer.simulator.config import DEFAULT_API_KEY
from dialer.simulator.server import RunningSimulator
from tests.support import (
    DialerProcess,
    campaign_args,
    cli_env,
    creates_to,
    dialer_cli,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

FINAL = {"completed", "voicemail", "no_answer", "failed"}


def _number(n: int) -> str:
    return f"+1415555{2100 + n:04d}"


def _write(path: Path, numbers: list[int], version: str = "v1") -> None:
    """A list whose `first_name` names its number (and the file's version)."""
    lines = ["phone,first_name", *(f"{_number(n)},n{n}-{version}" for n in numbers)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _results(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _run(sim: RunningSimulator, tmp: Path, *extra: str, name: str = "leads.csv"):  # type: ignore[no-untyped-def]
    args = campaign_args("run", name, "--rate", "20/s", *extra)
    return dialer_cli(args, cli_env(sim, tmp), cwd=tmp, timeout=180)


def _check_latest(sim: RunningSimulator, tmp: Path, numbers: list[int], version: str) -> None:
    """Every number dialled once, each with its own variables; the results in the latest
    file's order, each contact once, its row the latest file's."""
    assert Counter(creates_to(sim.url)) == Counter(_number(n) for n in numbers)
    rows = _results(tmp / "leads.results.csv")
    assert [r["phone_e164"] for r in rows] == [_number(n) for n in numbers]
    assert [r["source_row"] for r in rows] == [str(i) for i in range(2, len(numbers) + 2)]
    assert all(r["status"] in FINAL for r in rows), rows
    with make_http_client(sim.url, DEFAULT_API_KEY, connect_timeout=2, read_timeout=5) as http:
        client = OneInboxClient(http)
        for row in rows:
            sent = client.get_call(row["call_id"]).variables["first_name"]
            n = int(row["phone_e164"][-4:]) - 2100
            assert sent.startswith(f"n{n}-"), f"{row['phone_e164']} was sent {sent}"


def test_new_rows_at_the_top_and_a_resort_after_a_finished_run_are_each_dialled_once(
    simulator: RunningSimulator, tmp: Path
) -> None:
    _write(tmp / "leads.csv", [1, 2, 3, 4])
    first = _run(simulator, tmp)
    assert first.returncode == 0, first.stdout + first.stderr
    latest = [9, 8, 3, 1, 4, 2]  # two new leads at the top, the rest re-sorted
    _write(tmp / "leads.csv", latest, "v2")
    again = _run(simulator, tmp)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "added 2" in again.stdout
    _check_latest(simulator, tmp, latest, "v2")


def test_new_rows_at_the_top_and_a_resort_after_a_kill_9_are_each_dialled_once(
    simulator: RunningSimulator, tmp: Path
) -> None:
    numbers = list(range(1, 17))
    _write(tmp / "leads.csv", numbers)
    env = cli_env(simulator, tmp)
    args = campaign_args("run", "leads.csv", "--rate", "4/s")
    running = DialerProcess(args, env, tmp)
    wait_until(lambda: len(creates_to(simulator.url)) >= 4, 60, "four calls placed")
    running.kill_all()  # kill -9 mid-run
    latest = [30, 31, *reversed(numbers)]
    _write(tmp / "leads.csv", latest, "v2")
    again = _run(simulator, tmp)
    assert again.returncode == 0, again.stdout + again.stderr
    said = re.search(
        r"leads\.csv: 18 contacts, (\d+) to dial \((\d+) dialled or final\)", again.stdout
    )
    assert said is not None, again.stdout
    to_dial, dialled = map(int, said.groups())
    assert to_dial + dialled == 18 and dialled >= 4, said.group(0)
    _check_latest(simulator, tmp, latest, "v2")


def test_contacts_held_by_the_gap_end_expired_at_the_deadline_and_the_run_exits(
    simulator: RunningSimulator, tmp: Path
) -> None:
    _write(tmp / "first.csv", [1, 2, 3])
    assert _run(simulator, tmp, name="first.csv").returncode == 0
    _write(tmp / "leads.csv", [1, 2, 3])  # another campaign of the account, same numbers
    deadline = (datetime.now(UTC) + timedelta(seconds=45)).isoformat(timespec="seconds")
    held = _run(simulator, tmp, "--deadline", deadline, "--no-preflight")
    assert held.returncode == 3, held.stdout + held.stderr  # dialled nobody (README)
    rows = _results(tmp / "leads.results.csv")
    assert [r["status"] for r in rows] == ["expired"] * 3, rows
    assert len(creates_to(simulator.url)) == 3, "nobody called twice within the gap"


def test_a_retry_run_right_after_its_campaign_dials_at_once(
    simulator: RunningSimulator, tmp: Path
) -> None:
    _write(tmp / "leads.csv", [1, 2, 3, 4])
    assert _run(simulator, tmp).returncode == 0
    statuses = ",".join(sorted(FINAL))
    args = campaign_args("retry", "leads.results.csv", "--only", statuses, "--rate", "20/s")
    retried = dialer_cli(args, cli_env(simulator, tmp), cwd=tmp, timeout=60)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert Counter(creates_to(simulator.url)) == Counter(_number(n) for n in [1, 2, 3, 4] * 2)
