"""`dialer report`: the numbers from a results file, the HTML page, and the page in Chromium."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import statistics
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from campaigns.report import duration_buckets, summarise, summary_rows, time_step
from campaigns.report_html import render
from campaigns.report_rows import local_hour, read_results
from campaigns.results import write_results
from dialer.errors import InputError
from dialer.store import ContactRecord
from workers.cli.app import app
from workers.cli.report import default_output

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
EVIL = "<script>alert('x')</script>"
T0 = datetime(2026, 1, 15, 14, 5, tzinfo=UTC)  # 09:05 in New York, 06:05 in San Francisco


def contact(
    phone: str,
    state: str,
    *,
    attempt: int = 1,
    minutes: float = 0,
    duration: float | None = None,
    end_reason: str = "",
    error: str = "",
    started: bool = True,
    extra: str = "x",
) -> dict[str, str]:
    """A stored contact as the store keeps it, for the real results writer."""
    at = T0 + timedelta(minutes=minutes)
    return {
        "row": json.dumps([phone, extra]),
        "phone": phone,
        "state": state,
        "attempt": str(attempt),
        "sends": "1" if attempt else "",
        "call_id": f"call-{phone}" if attempt else "",
        "call_status": "completed",
        "end_reason": end_reason,
        "outcome": "",
        "error": error,
        "duration_seconds": "" if duration is None else str(duration),
        "started_at": at.isoformat() if attempt and started else "",
        "ended_at": (at + timedelta(seconds=duration or 5)).isoformat() if attempt else "",
        "summary": f"summary {EVIL}",
        "transcript": "assistant: hello\nuser: bye",
    }


CONTACTS = [
    contact("+12125550100", "completed", duration=42.0, end_reason="customer_hangup"),
    contact("+12125550101", "completed", duration=130.0, minutes=65, end_reason=EVIL, attempt=2),
    contact("+12125550102", "voicemail", duration=17.0, minutes=66, end_reason="voicemail"),
    contact(
        "+14155550103", "no_answer", minutes=5, end_reason="no_answer", started=False, attempt=3
    ),
    contact(
        "+14155550104",
        "failed",
        minutes=6,
        end_reason="dial_failed",
        started=False,
        error='=HYPERLINK("http://evil") <img src=x onerror=alert(1)>',
    ),
    contact("+14155550105", "completed", duration=14.5, minutes=7, end_reason="end_call"),
    contact("+61412345678", "completed", duration=600.0, minutes=8, end_reason="end_call"),
    contact("+14155550106", "error", minutes=9, error="POST /v1/calls answered HTTP 422"),
    contact("+14155550107", "pending", attempt=0),
    contact("+14155550108", "canceled", attempt=0),
]


@pytest.fixture
def results(tmp_path: Path) -> Path:
    path = tmp_path / "spring.results.csv"
    stored = [ContactRecord.from_redis(row, c) for row, c in enumerate(CONTACTS, start=1)]
    write_results(path, ["Phone Number", "note"], stored)
    return path


def expected(path: Path) -> dict[str, Any]:
    """The headline numbers, worked out from the CSV directly."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    dialled = [r for r in rows if int(r["attempts"]) > 0]
    done = [r for r in rows if r["status"] == "completed"]
    talk = [float(r["duration_seconds"]) for r in done]
    return {
        "total": len(rows),
        "dialled": len(dialled),
        "connected": len(done),
        "statuses": Counter(r["status"] for r in rows),
        "attempts": Counter(r["attempts"] for r in rows),
        "pickup_rate": f"{len(done) / len(dialled):.1%}",
        "mean_duration": f"{statistics.fmean(talk):.1f} s",
    }


def report_of(path: Path) -> Any:
    with path.open("rb") as handle:
        return summarise(read_results(handle, name=str(path)))


# -- numbers ------------------------------------------------------------------------------------


def test_summary_matches_the_file(results: Path) -> None:
    report, want = report_of(results), expected(results)
    shown = {key: value for key, _label, value in summary_rows(report)}
    assert (report.total, report.dialled, report.connected) == (10, 8, 4)
    assert shown["pickup_rate"] == want["pickup_rate"] == "50.0%"
    assert shown["mean_duration"] == want["mean_duration"]
    assert report.attempts == 1 + 2 + 1 + 3 + 1 + 1 + 1 + 1
    assert {b.label: b.count for b in report.statuses} == dict(want["statuses"])
    assert [(b.label, b.count) for b in report.attempts_per_contact] == [
        ("0", 2),
        ("1", 6),
        ("2", 1),
        ("3", 1),
    ]
    assert report.first_call == T0
    assert report.end_reasons[0].label == "end_call"
    assert report.errors[0].label.startswith("=HYPERLINK")  # the writer's guard quote is gone


def test_pickup_by_local_hour(results: Path) -> None:
    hours = {b.label: (b.count, b.of) for b in report_of(results).by_local_hour if b.of}
    # New York 09:05 (1 connect), 10:10 and 10:11 (1 of 2); San Francisco 06:xx (1 of 4);
    # +61 spans several time zones, so it has no local hour.
    assert hours == {"09": (1, 1), "10": (1, 2), "06": (1, 4)}
    assert report_of(results).no_local_hour == 1


def test_local_hour_rules() -> None:
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert local_hour("+12125550100", T0) == 9
    assert local_hour("+447911123456", summer) == 13  # four zones, one clock (BST)
    assert local_hour("+61412345678", summer) is None
    assert local_hour("+18005550100", summer) is None  # toll free: no one place
    assert local_hour("+12125550100", T0, "Asia/Tokyo") == 23  # the contact's own column wins
    assert local_hour("+12125550100", T0, "Mars/Base") == 9
    assert local_hour("not a number", T0) is None


def test_time_buckets_and_durations() -> None:
    assert time_step(T0, T0 + timedelta(minutes=30)) == timedelta(minutes=1)
    assert time_step(T0, T0 + timedelta(hours=2)) == timedelta(minutes=5)
    assert time_step(T0, T0 + timedelta(days=3)) == timedelta(hours=6)
    assert time_step(T0, T0 + timedelta(days=400)) == timedelta(days=9)
    counts = {b.label: b.count for b in duration_buckets([0, 14.9, 15, 59.9, 600, 4000])}
    assert counts == {
        "<15 s": 2,
        "15-30 s": 1,
        "30-60 s": 1,
        "60-120 s": 0,
        "120-300 s": 0,
        "300-600 s": 0,
        "600 s+": 2,
    }


def test_over_time_keeps_empty_buckets(results: Path) -> None:
    series = report_of(results).over_time
    assert sum(calls for _, calls, _ in series) == 8
    assert sum(connects for _, _, connects in series) == 4
    assert len(series) == 14  # 14:05..15:11 in 5-minute buckets
    assert series[0] == ("01-15 14:05", 1, 1)
    assert series[1] == ("01-15 14:10", 5, 2)


def test_header_only_and_partial_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.results.csv"
    write_results(path, ["phone"], [])
    report = report_of(path)
    assert report.total == 0 and report.pickup_rate is None
    page = render(report, source=path.name)
    for chart in ("chart-outcomes", "chart-statuses", "chart-over-time", "chart-pickup-by-hour"):
        assert f'id="{chart}"' in page
    handle = io.BytesIO(b"status,phone_e164\n")  # a results file needs all its columns
    with pytest.raises(InputError, match=r"bad\.csv: not a results file"):
        read_results(handle, name="bad.csv")


def test_unreadable_cells_are_missing_values() -> None:
    header = (
        "source_row,phone_e164,status,attempts,call_id,call_status,end_reason,outcome,"
        "duration_seconds,started_at,ended_at,summary,transcript,error"
    )
    text = f"{header}\n1,+12125550100,completed,two,,,,,long,yesterday,,,,\n2,,,,\n"
    (one, two) = read_results(io.BytesIO(text.encode()), name="x")
    assert (one.attempts, one.duration, one.at) == (0, None, None)
    assert two.status == "unknown"


# -- the page -----------------------------------------------------------------------------------


def test_page_escapes_user_text_and_loads_nothing(results: Path) -> None:
    page = render(report_of(results), source="<b>name</b>.csv")
    assert "<script" not in page and "<img" not in page and "<b>name" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    dom = Dom()
    dom.feed(page)
    assert not dom.attributes & {"src", "href", "action"} and "@import" not in page
    assert dom.tags["script"] == dom.tags["img"] == dom.tags["b"] == 0
    assert "Content-Security-Policy" in page


# -- the command --------------------------------------------------------------------------------


def test_command_writes_the_page_and_prints_the_summary(results: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(results)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.exception
    out = default_output(results)
    assert out.name == "spring.report.html" and out.is_file()
    assert "Pick-up rate (connected / dialled)" in result.stdout
    assert "50.0%" in result.stdout and "status completed" in result.stdout
    target = results.parent / "sub" / "r.html"
    assert CliRunner().invoke(app, ["report", str(results), "-o", str(target)]).exit_code == 0
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "the file is empty"),
        (b"phone,name\n+12125550100,Ann\n", "not a results file"),
        (b"\xff\xfe\x00\x01binary\x00", "not utf-16 text"),
    ],
)
def test_command_refuses_what_is_not_a_results_file(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "input.csv"
    if content is not None:
        path.write_bytes(content)
    result = CliRunner().invoke(app, ["report", str(path)])
    assert isinstance(result.exception, InputError)
    assert str(path) in str(result.exception) and message in str(result.exception)
    assert not default_output(path).exists()


def test_command_refuses_a_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert isinstance(result.exception, InputError)
    assert "not a file" in str(result.exception)


# -- in a browser -------------------------------------------------------------------------------


class Dom(HTMLParser):
    """What a test needs from the rendered DOM: elements by id, bars, summary and table cells."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.tags: Counter[str] = Counter()
        self.attributes: set[str] = set()
        self.bars: list[dict[str, str]] = []
        self.rows: list[dict[str, str]] = []
        self.summary: dict[str, str] = {}
        self._key: str | None = None
        self._svg = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.tags[tag] += 1
        self.attributes.update(found)
        self.ids.update([found["id"]] if "id" in found else [])
        self._svg = found.get("id", "") if tag == "svg" else self._svg
        if tag == "rect" and "bar" in found.get("class", "").split():
            self.bars.append({**found, "chart": self._svg})
        if tag == "tr" and "data-label" in found:
            self.rows.append(found)
        self._key = found.get("data-key") if tag == "td" else None

    def handle_data(self, data: str) -> None:
        if self._key:
            self.summary[self._key] = self.summary.get(self._key, "") + data

    def handle_endtag(self, tag: str) -> None:
        self._key = None

    def chart(self, chart_id: str, series: str) -> dict[str, float]:
        return {
            b["data-label"]: float(b["data-value"])
            for b in self.bars
            if b["chart"] == chart_id and b["data-series"] == series
        }


def chromium() -> str:
    """The Chromium binary; without one the test is skipped, except under CI where it fails."""
    if CHROMIUM is None:
        why = "needs Chromium (Debian package `chromium`; ./dev test installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"{why}: under CI a missing browser fails the run", pytrace=False)
        pytest.skip(why)
    return CHROMIUM


def dump_dom(page: Path, profile: Path) -> str:
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    return done.stdout


def test_chromium_renders_the_charts_with_the_files_numbers(results: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    assert CliRunner().invoke(app, ["report", str(results), "-o", str(page)]).exit_code == 0
    dom = Dom()
    dom.feed(dump_dom(page, tmp_path / "profile"))
    want = expected(results)

    assert {
        "summary",
        "chart-outcomes",
        "chart-statuses",
        "chart-over-time",
        "chart-pickup-by-hour",
        "chart-durations",
        "chart-attempts",
        "table-end-reasons",
        "table-errors",
    } <= dom.ids
    assert dom.tags["svg"] == 9 and dom.tags["script"] == 0 and dom.tags["img"] == 0
    for key in ("total", "dialled", "connected", "pickup_rate", "mean_duration"):
        assert dom.summary[key] == str(want[key]), key
    assert dom.chart("chart-statuses", "contacts") == dict(want["statuses"])
    assert dom.chart("chart-attempts", "contacts") == {
        k: float(n) for k, n in want["attempts"].items()
    }
    over_time = dom.chart("chart-over-time", "calls"), dom.chart("chart-over-time", "connected")
    assert (sum(over_time[0].values()), sum(over_time[1].values())) == (
        want["dialled"],
        want["connected"],
    )
    rates = dom.chart("chart-pickup-by-hour", "pick-up rate %")
    assert len(rates) == 24 and rates["09"] == 100.0 and rates["06"] == 25.0
    durations = dom.chart("chart-durations", "calls")
    assert sum(durations.values()) == want["connected"]
    assert durations["<15 s"] == 1 and durations["600 s+"] == 1
    reasons = {r["data-label"]: int(r["data-value"]) for r in dom.rows}
    assert reasons[EVIL] == 1  # the markup survived as text, not as an element


# -- for sales: the agent's outcomes (issue 26) ---------------------------------------------------


def _sold(
    phone: str, outcome: str, *, attempt: int = 1, cost: str = "", **extracted: str
) -> dict[str, str]:
    stored = contact(phone, "completed", attempt=attempt, duration=60.0)
    analysis = {"outcome": outcome, "summary": "s", "extracted": extracted}
    return {**stored, "outcome": outcome, "cost_cents": cost, "analysis": json.dumps(analysis)}


SOLD = [
    _sold("+12125550100", "Interested", cost="4", budget="$5k"),
    _sold("+12125550101", "Interested", cost="2", budget="$5k", attempt=2),
    _sold("+14155550102", "Appointment Booked", cost="6", budget="$20k"),
    _sold("+14155550103", "Not Interested", cost=""),
    {**contact("+14155550104", "failed", started=False), "cost_cents": "0"},
    contact("+14155550105", "pending", attempt=0),
]


def test_the_sales_view_counts_the_agents_outcomes_with_cost_and_extracted_values(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sold.results.csv"
    stored = [ContactRecord.from_redis(row, c) for row, c in enumerate(SOLD, start=1)]
    write_results(path, ["Phone Number", "note"], stored)
    sales = report_of(path).sales
    assert sales.dialled == 5
    assert [(b.label, b.count, b.of) for b in sales.outcomes] == [
        ("Interested", 2, 5),
        ("Appointment Booked", 1, 5),
        ("Not Interested", 1, 5),
        ("(no outcome)", 1, 5),
    ]
    costs = {c.label: (c.calls, c.cost_cents, c.unknown, c.mean_cents) for c in sales.costs}
    assert costs["Interested"] == (2, 6.0, 0, 3.0)
    assert costs["Not Interested"] == (1, 0.0, 1, None)
    assert (sales.cost_cents, sales.cost_unknown) == (12.0, 1)
    assert sales.cost_per(sales.outcomes[1]) == 12.0  # all known cost for one appointment
    by_attempt = dict(sales.by_attempt.rows)
    interested = sales.by_attempt.series.index("Interested")
    assert (by_attempt["1"][interested], by_attempt["2"][interested]) == (1, 1)
    regions = dict(sales.by_region.rows)
    assert sum(regions["US NY"]) == 2 and sum(regions["US CA"]) == 3
    assert dict(sales.extracted)["extracted.budget"][0].label == "$5k"
    hours = dict(sales.by_local_hour.rows)
    assert len(hours) == 24 and sum(sum(v) for v in hours.values()) == 5
    shown = {key: value for key, _label, value in summary_rows(report_of(path))}
    assert shown["cost"] == "$0.12 (cost unknown for 1 calls)"


def test_the_outcomes_chart_is_the_agents_and_the_statuses_chart_is_ours(tmp_path: Path) -> None:
    path = tmp_path / "sold.results.csv"
    stored = [ContactRecord.from_redis(row, c) for row, c in enumerate(SOLD, start=1)]
    write_results(path, ["Phone Number", "note"], stored)
    dom = Dom()
    dom.feed(render(report_of(path), source=path.name))
    assert dom.chart("chart-outcomes", "contacts") == {
        "Interested": 2.0,
        "Appointment Booked": 1.0,
        "Not Interested": 1.0,
        "(no outcome)": 1.0,
    }
    assert dom.chart("chart-statuses", "contacts") == {
        "completed": 4.0,
        "failed": 1.0,
        "pending": 1.0,
    }
