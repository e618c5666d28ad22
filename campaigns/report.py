"""What a results file says about a campaign: counts, rates and distributions, as plain data.

`campaigns.report_rows.read_results` reads the results file into one `ContactResult` per
contact; `summarise` turns those into a `Report` (with the agent's outcomes in
`campaigns.report_sales`), which `campaigns.report_html` draws.

Definitions used throughout: a contact is *dialled* when it had at least one attempt; it is
*connected* when its status is `completed`; the pick-up rate is connected / dialled. The results
file holds one row per contact (its last call), so times and durations are those of the last call.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from campaigns.report_rows import Bucket, ContactResult
from campaigns.report_sales import SalesReport, sales_report

TOP = 10
# Upper bounds (seconds) of the call duration buckets; the last bucket is open.
DURATION_BOUNDS = (15, 30, 60, 120, 300, 600)
# Candidate widths for the calls-over-time buckets, smallest first.
TIME_STEPS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(days=1),
)
MAX_TIME_BUCKETS = 48
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the report page and the terminal summary show."""

    total: int
    dialled: int
    connected: int
    attempts: int
    mean_duration: float | None
    median_duration: float | None
    talk_seconds: float
    first_call: datetime | None
    last_call: datetime | None
    statuses: list[Bucket] = field(default_factory=list)
    over_time: list[tuple[str, int, int]] = field(default_factory=list)  # label, calls, connects
    by_local_hour: list[Bucket] = field(default_factory=list)  # count=connects, of=calls
    no_local_hour: int = 0
    durations: list[Bucket] = field(default_factory=list)
    attempts_per_contact: list[Bucket] = field(default_factory=list)
    end_reasons: list[Bucket] = field(default_factory=list)
    errors: list[Bucket] = field(default_factory=list)
    sales: SalesReport = field(default_factory=lambda: SalesReport(0))

    @property
    def pickup_rate(self) -> float | None:
        """Connected / dialled, or None before anyone was dialled."""
        return self.connected / self.dialled if self.dialled else None


# -- summarising --------------------------------------------------------------------------------


def summarise(outcomes: Sequence[ContactResult]) -> Report:
    """The report for a campaign's outcomes."""
    dialled = [o for o in outcomes if o.dialled]
    talk = [o.duration for o in dialled if o.connected and o.duration is not None]
    times = [o.at for o in dialled if o.at is not None]
    return Report(
        total=len(outcomes),
        dialled=len(dialled),
        connected=sum(o.connected for o in outcomes),
        attempts=sum(o.attempts for o in outcomes),
        mean_duration=statistics.fmean(talk) if talk else None,
        median_duration=statistics.median(talk) if talk else None,
        talk_seconds=sum(talk),
        first_call=min(times, default=None),
        last_call=max(times, default=None),
        statuses=_most_common(o.status for o in outcomes),
        over_time=over_time(dialled),
        by_local_hour=by_local_hour(dialled),
        no_local_hour=sum(1 for o in dialled if o.local_hour is None),
        durations=duration_buckets(talk),
        attempts_per_contact=_attempt_buckets(outcomes),
        end_reasons=_most_common((o.end_reason for o in dialled if o.end_reason), TOP),
        errors=_most_common((o.error for o in outcomes if o.error), TOP),
        sales=sales_report(outcomes),
    )


def _most_common(values: Iterable[str], top: int | None = None) -> list[Bucket]:
    return [Bucket(label, n) for label, n in Counter(values).most_common(top)]


def time_step(first: datetime, last: datetime) -> timedelta:
    """The smallest bucket width that shows `first`..`last` in at most MAX_TIME_BUCKETS bars."""
    for step in TIME_STEPS:
        if (last - first) / step < MAX_TIME_BUCKETS:
            return step
    return TIME_STEPS[-1] * (1 + (last - first) // (TIME_STEPS[-1] * MAX_TIME_BUCKETS))


def over_time(dialled: Sequence[ContactResult]) -> list[tuple[str, int, int]]:
    """Calls and connects per time bucket (UTC), empty buckets included."""
    timed = [o for o in dialled if o.at is not None]
    if not timed:
        return []
    first = min(o.at for o in timed if o.at is not None)
    last = max(o.at for o in timed if o.at is not None)
    step = time_step(first, last)
    start = EPOCH + ((first - EPOCH) // step) * step
    calls = [0] * (int((last - start) // step) + 1)
    connects = [0] * len(calls)
    for o in timed:
        assert o.at is not None
        index = int((o.at - start) // step)
        calls[index] += 1
        connects[index] += o.connected
    fmt = "%Y-%m-%d" if step >= timedelta(days=1) else "%m-%d %H:%M"
    return [((start + i * step).strftime(fmt), calls[i], connects[i]) for i in range(len(calls))]


def by_local_hour(dialled: Sequence[ContactResult]) -> list[Bucket]:
    """For each recipient-local hour 0..23: connects (`count`) of calls (`of`)."""
    calls = Counter(o.local_hour for o in dialled if o.local_hour is not None)
    connects = Counter(o.local_hour for o in dialled if o.local_hour is not None and o.connected)
    return [Bucket(f"{hour:02d}", connects[hour], calls[hour]) for hour in range(24)]


def duration_buckets(seconds: Sequence[float]) -> list[Bucket]:
    """How many calls fall in each duration range (`<15 s`, `15-30 s`, ..., `600 s+`)."""
    counts = [0] * (len(DURATION_BOUNDS) + 1)
    for value in seconds:
        counts[sum(value >= bound for bound in DURATION_BOUNDS)] += 1
    labels = [f"<{DURATION_BOUNDS[0]} s"]
    labels += [f"{lo}-{hi} s" for lo, hi in pairwise(DURATION_BOUNDS)]
    labels.append(f"{DURATION_BOUNDS[-1]} s+")
    return [Bucket(label, n) for label, n in zip(labels, counts, strict=True)]


def _attempt_buckets(outcomes: Sequence[ContactResult]) -> list[Bucket]:
    counts = Counter(o.attempts for o in outcomes)
    return [Bucket(str(n), counts[n]) for n in range(max(counts, default=-1) + 1)]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _stamp(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _cost(report: Report) -> str:
    sales = report.sales
    shown = f"${sales.cost_cents / 100:,.2f}"
    return shown + (f" (cost unknown for {sales.cost_unknown} calls)" if sales.cost_unknown else "")


def summary_rows(report: Report) -> list[tuple[str, str, str]]:
    """The headline numbers as (key, label, shown value), for the page and the terminal alike."""
    rate = report.pickup_rate
    return [
        ("total", "Contacts", str(report.total)),
        ("dialled", "Dialled (at least one attempt)", str(report.dialled)),
        ("connected", "Connected (status completed)", str(report.connected)),
        (
            "pickup_rate",
            "Pick-up rate (connected / dialled)",
            "-" if rate is None else f"{rate:.1%}",
        ),
        ("attempts", "Call attempts", str(report.attempts)),
        ("mean_duration", "Mean duration of connected calls", _seconds(report.mean_duration)),
        ("median_duration", "Median duration of connected calls", _seconds(report.median_duration)),
        ("talk_minutes", "Talk time", f"{report.talk_seconds / 60:.1f} min"),
        ("cost", "Carrier cost (known)", _cost(report)),
        ("first_call", "First call", _stamp(report.first_call)),
        ("last_call", "Last call", _stamp(report.last_call)),
    ]
