"""`dialer retry`: a new campaign from an earlier results file dials exactly the rows with the
requested statuses, once each, keeping their columns; unknown rows only when asked."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from campaigns.model import RESULT_COLUMNS
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from tests.support import (
    DialerProcess,
    creates_to,
    dialer_cli,
    sim_get,
    state_folder_free,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

STATUSES = ["completed", "failed", "no_answer", "voicemail", "unknown", "failed", "error"]


def _results_file(path: Path, statuses: list[str] = STATUSES, delimiter: str = ",") -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(["Phone", "first_name", *RESULT_COLUMNS])
        for i, status in enumerate(statuses, start=1):
            phone = f"+1415555{4000 + i:04d}"
            result = {c: "" for c in RESULT_COLUMNS} | {
                "source_row": str(i),
                "phone_e164": phone,
                "status": status,
                "attempts": "1",
            }
            writer.writerow([phone, f"name {i}", *(result[c] for c in RESULT_COLUMNS)])


def _retry(sim: RunningSimulator, tmp: Path, *extra: str):  # type: ignore[no-untyped-def]
    return dialer_cli(_args(*extra), _env(sim, tmp), cwd=tmp)


def _env(sim: RunningSimulator, tmp: Path) -> dict[str, str]:
    return {
        "ONEINBOX_API_KEY": DEFAULT_API_KEY,
        "ONEINBOX_BASE_URL": sim.url,
        "DIALER_STATE_DIR": str(tmp / "state"),
        "DIALER_TIMING": "poll_scale=0.2,post_call_wait_s=3,stuck_s=3,reconcile_grace_s=3",
    }


def _args(*extra: str) -> list[str]:
    return [
        "retry",
        "old.results.csv",
        "--agent-id",
        DEFAULT_AGENT_ID,
        "--from-number",
        DEFAULT_FROM_NUMBER,
        "--rate",
        "20/s",
        "--window",
        "always",
        *extra,
    ]


def test_retry_run_dials_exactly_the_requested_statuses_once(
    simulator: RunningSimulator, tmp: Path
) -> None:
    _results_file(tmp / "old.results.csv")
    done = _retry(simulator, tmp, "--only", "failed,no_answer")
    assert done.returncode == 0, done.stdout + done.stderr
    called = Counter(c["to_number"] for c in sim_get(simulator.url, "creates"))  # type: ignore[union-attr]
    wanted = {
        f"+1415555{4000 + i:04d}" for i, s in enumerate(STATUSES, 1) if s in {"failed", "no_answer"}
    }
    assert set(called) == wanted and set(called.values()) == {1}
    [results] = list(tmp.glob("old-retry-*.results.csv"))  # named by its stable id
    with results.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:2] == ["Phone", "first_name"]  # the old columns are kept, once
    assert list(rows[0]).count("status") == 1
    assert {r["first_name"] for r in rows} == {"name 2", "name 3", "name 6"}


def test_unknown_rows_need_include_unknown_and_come_with_a_warning(
    simulator: RunningSimulator, tmp: Path
) -> None:
    _results_file(tmp / "old.results.csv")
    refused = _retry(simulator, tmp, "--only", "unknown")
    assert refused.returncode == 2 and "--include-unknown" in refused.stderr
    done = _retry(simulator, tmp, "--only", "error", "--include-unknown")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "may have been called already" in done.stdout
    assert len(sim_get(simulator.url, "creates")) == 2  # type: ignore[arg-type]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_a_retry_killed_half_way_then_run_again_dials_nobody_twice(
    simulator: RunningSimulator, tmp: Path
) -> None:
    _results_file(tmp / "old.results.csv", ["failed"] * 8)
    numbers = {f"+1415555{4000 + i:04d}" for i in range(1, 9)}
    killed = DialerProcess(_args("--rate", "2/s"), _env(simulator, tmp), tmp)
    wait_until(lambda: len(creates_to(simulator.url)) >= 2, 60, "two calls of the retry")
    killed.kill_all()
    wait_until(lambda: state_folder_free(tmp / "state"), 30, "the killed run's stack to end")
    lists = list(tmp.glob("old-retry-*.csv"))

    again = _retry(simulator, tmp, "--rate", "2/s")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Resuming campaign" in again.stdout
    assert Counter(creates_to(simulator.url)) == Counter(numbers)  # each once, over both runs
    assert lists and set(tmp.glob("old-retry-*.csv")) >= set(lists)  # the same list found


def test_semicolon_results_with_other_case_statuses_keep_their_source_rows(
    simulator: RunningSimulator, tmp: Path
) -> None:
    statuses = ["completed", "Failed", "NO_ANSWER", "voicemail", "failed ", "error"]
    _results_file(tmp / "old.results.csv", statuses, delimiter=";")  # Excel, in many locales
    done = _retry(simulator, tmp, "--only", "FAILED,no_answer", "--results", "again.csv")
    assert done.returncode == 0, done.stdout + done.stderr
    wanted = {f"+1415555{4000 + i:04d}" for i in (2, 3, 5)}
    assert Counter(creates_to(simulator.url)) == Counter(wanted)
    rows = _rows(tmp / "again.csv")
    assert sorted((r["source_row"], r["first_name"]) for r in rows) == [
        ("2", "name 2"),
        ("3", "name 3"),
        ("5", "name 5"),
    ]
