"""Provider statuses as they may come (busy, no-answer, canceled, hyphens, capitals): a real
`dialer run` (private Redis, real worker) against the simulator over HTTP ends each contact as
the status means, keeps the provider's word in `call_status`, and retries busy like no_answer.
Then `dialer report` on the campaign's `export --attempts` file counts contacts, not attempts."""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
import pytest

from dialer.simulator.server import RunningSimulator
from tests.support import campaign_args, cli_env, dialer_cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

BUSY, UNANSWERED, CANCELED, TALKS = "+14155550121", "+14155550122", "+14155550123", "+14155550124"


def test_hyphenated_and_undocumented_statuses_end_contacts_right(
    simulator: RunningSimulator, tmp: Path
) -> None:
    scripted = {
        BUSY: ["busy", "completed"],
        UNANSWERED: ["unanswered", "unanswered"],
        CANCELED: ["canceled"],
        TALKS: ["completed"],
    }
    patch = {"scripted": scripted, "status_spelling": "hyphen"}
    httpx.patch(f"{simulator.url}/_sim/config", json=patch).raise_for_status()
    (tmp / "c.csv").write_text("phone\n" + "\n".join(scripted) + "\n")
    args = campaign_args(
        "run",
        "c.csv",
        "--campaign",
        "lenient",
        "--rate",
        "20/s",
        "--max-attempts",
        "2",
        "--retry-delay",
        "1s",
        "--retry-on",
        "no_answer",
    )
    done = dialer_cli(args, cli_env(simulator, tmp), cwd=tmp)
    assert done.returncode == 0, done.stdout + done.stderr

    with (tmp / "c.results.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = {r["phone_e164"]: r for r in csv.DictReader(handle)}
    assert rows[BUSY]["status"] == "completed" and rows[BUSY]["attempts"] == "2"
    assert rows[UNANSWERED]["status"] == "no_answer" and rows[UNANSWERED]["attempts"] == "2"
    assert rows[UNANSWERED]["call_status"] == "no-answer"  # the provider's own word
    assert rows[CANCELED]["status"] == "failed" and rows[CANCELED]["attempts"] == "1"
    assert rows[CANCELED]["call_status"] == "canceled"
    assert rows[TALKS]["status"] == "completed"

    env = cli_env(simulator, tmp)
    status = dialer_cli(["status", "lenient"], env, cwd=tmp).stdout
    assert "dialled 4/4" in status  # contacts with a create, not creates (6)
    exported = dialer_cli(
        ["export", "lenient", "--results", "attempts.csv", "--attempts"], env, cwd=tmp
    )
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert "Wrote 6 rows" in exported.stdout  # 2 + 2 + 1 + 1 attempts
    report = dialer_cli(["report", "attempts.csv"], {**env, "COLUMNS": "200"}, cwd=tmp)
    assert report.returncode == 0, report.stdout + report.stderr
    figures = dict(  # without a terminal a table is whole "name: value" lines
        line.strip().split(": ", 1) for line in report.stdout.splitlines() if ": " in line
    )
    assert figures["Contacts"] == "4"
    assert figures["Dialled (at least one attempt)"] == "4"
    assert figures["Call attempts"] == "6"
    assert figures["Pick-up rate (connected / dialled)"] == "50.0%"
