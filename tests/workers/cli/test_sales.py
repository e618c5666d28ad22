"""Issue 26 as a user meets it: `dialer run` on the simulator with scripted agent outcomes, then
`dialer report` and `dialer retry` on its results; the failure guard stopping an attached run.
A subprocess, a private redis-server, a real worker, the simulator over HTTP."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from campaigns.model import RESULT_COLUMNS
from dialer.simulator import SimulatorConfig, start_in_thread
from dialer.simulator.config import DEFAULT_API_KEY, ScriptedOutcome
from dialer.simulator.server import RunningSimulator
from tests.support import campaign_args, cli_env, creates_to, dialer_cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

# Ten contacts whose calls the agent classifies as scripted; all but the voicemail end
# `completed`, so a chart of statuses could not tell them apart.
SCRIPT: dict[str, ScriptedOutcome] = {
    **{f"+1415555{600 + i:04d}": "interested" for i in range(4)},
    **{f"+1212555{600 + i:04d}": "not_interested" for i in range(3)},
    **{f"+1312555{600 + i:04d}": "appointment_booked" for i in range(2)},
    "+14155550699": "voicemail",
}
WANT = {"Interested": 4, "Not Interested": 3, "Appointment Booked": 2, "Voicemail": 1}


@pytest.fixture
def scripted() -> Iterator[RunningSimulator]:
    config = SimulatorConfig(
        speed=200.0, seed=5, scripted={phone: [kind] for phone, kind in SCRIPT.items()}
    )
    with start_in_thread(config) as sim:
        yield sim


def _write_contacts(path: Path, phones: list[str]) -> None:
    lines = ["phone,first_name"] + [f"{p},name {i}" for i, p in enumerate(phones, 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


class Bars(HTMLParser):
    """The bars of the report's charts: chart id -> series -> label -> value."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, dict[str, dict[str, float]]] = {}
        self._svg = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self._svg = found.get("id", "") if tag == "svg" else self._svg
        if tag == "rect" and "bar" in found.get("class", "").split():
            series = self.charts.setdefault(self._svg, {}).setdefault(found["data-series"], {})
            series[found["data-label"]] = float(found["data-value"])


def test_the_report_shows_the_agents_outcomes_and_the_results_every_call_field(
    scripted: RunningSimulator, tmp: Path
) -> None:
    _write_contacts(tmp / "leads.csv", list(SCRIPT))
    done = dialer_cli(
        campaign_args("run", "leads.csv", "--rate", "20/s"), cli_env(scripted, tmp), cwd=tmp
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = _rows(tmp / "leads.results.csv")
    header = list(rows[0])
    assert header[: 2 + len(RESULT_COLUMNS)] == ["phone", "first_name", *RESULT_COLUMNS]
    extracted = [c for c in header if c.startswith("analysis.")]
    assert header[2 + len(RESULT_COLUMNS) :] == extracted == sorted(extracted)
    assert {"analysis.outcome", "analysis.extracted.budget", "analysis.sentiment"} <= set(header)
    booked = [r for r in rows if r["outcome"] == "Appointment Booked"]
    assert len(booked) == 2 and all(r["analysis.extracted.appointment"] for r in booked)
    assert all(
        r["cost_cents"].isdigit() and r["recording_url"].startswith("https://") for r in rows
    )

    page = tmp / "leads.report.html"
    report = dialer_cli(["report", "leads.results.csv"], cli_env(scripted, tmp), cwd=tmp)
    assert report.returncode == 0, report.stdout + report.stderr
    bars = Bars()
    bars.feed(page.read_text(encoding="utf-8"))
    assert bars.charts["chart-outcomes"]["contacts"] == {k: float(n) for k, n in WANT.items()}
    statuses = bars.charts["chart-statuses"]["contacts"]
    assert statuses == {"completed": 9.0, "voicemail": 1.0}
    by_attempt = bars.charts["chart-outcomes-by-attempt"]
    assert {series: counts["1"] for series, counts in by_attempt.items()} == WANT
    regions = bars.charts["chart-outcomes-by-region"]["Interested"]
    assert regions == {"US CA": 4.0, "US NY": 0.0, "US IL": 0.0}
    assert "outcome Appointment Booked" in report.stdout


def test_a_results_file_with_extracted_columns_is_read_again_by_retry(
    scripted: RunningSimulator, tmp: Path
) -> None:
    _write_contacts(tmp / "leads.csv", list(SCRIPT)[:4])
    env = cli_env(scripted, tmp)
    done = dialer_cli(campaign_args("run", "leads.csv", "--rate", "20/s"), env, cwd=tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    again = dialer_cli(
        campaign_args("retry", "leads.results.csv", "--only", "completed", "--min-gap", "0"),
        env,
        cwd=tmp,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert Counter(creates_to(scripted.url)) == Counter({p: 2 for p in list(SCRIPT)[:4]})
    [results] = tmp.glob("leads-retry-*.results.csv")
    with results.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    assert header[: 2 + len(RESULT_COLUMNS)] == ["phone", "first_name", *RESULT_COLUMNS]
    assert header.count("analysis.outcome") == 1 and header.count("cost_cents") == 1
    calls = httpx.get(
        f"{scripted.url}/v1/calls",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
        timeout=5,
    ).json()["items"]
    assert {tuple(c["variables"]) for c in calls} == {("first_name",)}  # never analysis.*


def test_an_attached_run_paused_by_the_failure_guard_says_why_and_how_to_resume(
    tmp: Path,
) -> None:
    with start_in_thread(SimulatorConfig(speed=200.0, seed=5, default_script=["failed"])) as sim:
        phones = [f"+1415555{700 + i:04d}" for i in range(8)]
        _write_contacts(tmp / "leads.csv", phones)
        args = ["--rate", "20/s", "--max-concurrent", "1", "--pause-on-failures", "3/5"]
        done = dialer_cli(campaign_args("run", "leads.csv", *args), cli_env(sim, tmp), cwd=tmp)
        assert done.returncode == 3, done.stdout + done.stderr
        assert len(creates_to(sim.url)) == 3
        out = " ".join(done.stdout.split())
        assert "Stopped: paused: 3 of the last 5 calls failed or errored" in out
        assert "stopped: paused: 3 of the last 5" in out  # the live view's last line
        assert "To resume:" in out
        cid = re.search(r"Campaign (\S+)", done.stdout)
        assert cid is not None
        status = dialer_cli(["status", cid.group(1)], cli_env(sim, tmp), cwd=tmp)
    said = " ".join(status.stdout.split())
    assert "Stopped: paused: 3 of the last 5 calls failed" in said
    assert "Cost: $0.00 so far" in said


def test_a_bad_failure_guard_is_a_clear_error(tmp: Path, simulator: RunningSimulator) -> None:
    _write_contacts(tmp / "leads.csv", ["+14155550701"])
    args = campaign_args("run", "leads.csv", "--pause-on-failures", "50/30")
    done = dialer_cli(args, cli_env(simulator, tmp), cwd=tmp)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--pause-on-failures '50/30' is not N/M" in " ".join(done.stderr.split())
