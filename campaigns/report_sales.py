"""What the agent achieved, for a sales manager: outcomes as the agent classified them.

Counted over dialled contacts, by each contact's last call (the results file holds one row per
contact): how many of each outcome and their share, on which attempt, at which local hour, in
which region; what the calls of each outcome cost; and the values the agent extracted most often.
A dialled contact whose last call has no outcome counts as `NO_OUTCOME`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from campaigns.report_rows import Bucket, ContactResult

NO_OUTCOME = "(no outcome)"
MAX_SERIES = 6  # outcomes drawn as their own series; the rest are summed as OTHER
OTHER = "(other)"
MAX_REGIONS = 12
TOP_FIELDS = 10
TOP_VALUES = 5


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Outcome counts per category (attempt, hour, region): one count per series, in order."""

    series: tuple[str, ...]
    rows: tuple[tuple[str, tuple[int, ...]], ...]


@dataclass(frozen=True, slots=True)
class OutcomeCost:
    """What the calls that ended with one outcome cost (known costs only)."""

    label: str
    calls: int
    cost_cents: float
    unknown: int  # calls of this outcome with no cost reported

    @property
    def mean_cents(self) -> float | None:
        """The mean known cost of one such call."""
        known = self.calls - self.unknown
        return self.cost_cents / known if known else None


@dataclass(frozen=True, slots=True)
class SalesReport:
    """The sales view of a campaign's results."""

    dialled: int
    outcomes: list[Bucket] = field(default_factory=list)  # count of `of` dialled contacts
    by_attempt: Breakdown = Breakdown((), ())
    by_local_hour: Breakdown = Breakdown((), ())
    by_region: Breakdown = Breakdown((), ())
    costs: list[OutcomeCost] = field(default_factory=list)
    cost_cents: float = 0.0  # every known cost
    cost_unknown: int = 0  # dialled contacts whose last call has no cost
    extracted: list[tuple[str, list[Bucket]]] = field(default_factory=list)

    def cost_per(self, bucket: Bucket) -> float | None:
        """The campaign's whole known cost per contact that ended with this outcome (what one
        booked appointment cost), in cents."""
        return self.cost_cents / bucket.count if bucket.count else None


def label(result: ContactResult) -> str:
    """The contact's outcome as the report shows it."""
    return result.outcome or NO_OUTCOME


def sales_report(results: Sequence[ContactResult]) -> SalesReport:
    """The sales report for a campaign's contacts (those never dialled are left out)."""
    dialled = [r for r in results if r.dialled]
    counts = Counter(label(r) for r in dialled)
    series = _series(counts)
    costs = [r.cost_cents for r in dialled if r.cost_cents is not None]
    return SalesReport(
        dialled=len(dialled),
        outcomes=[Bucket(name, n, len(dialled)) for name, n in counts.most_common()],
        by_attempt=_breakdown(dialled, series, lambda r: str(r.attempts), numeric=True),
        by_local_hour=_by_hour(dialled, series),
        by_region=_by_region(dialled, series),
        costs=_costs(dialled, [name for name, _ in counts.most_common()]),
        cost_cents=sum(costs),
        cost_unknown=len(dialled) - len(costs),
        extracted=_extracted(dialled),
    )


def _series(counts: Counter[str]) -> tuple[str, ...]:
    ranked = [name for name, _ in counts.most_common()]
    if len(ranked) <= MAX_SERIES:
        return tuple(ranked)
    return (*ranked[: MAX_SERIES - 1], OTHER)


def _in_series(result: ContactResult, series: tuple[str, ...]) -> str:
    name = label(result)
    return name if name in series else OTHER


def _breakdown(
    results: Sequence[ContactResult],
    series: tuple[str, ...],
    category: Callable[[ContactResult], str],
    *,
    numeric: bool = False,
    keep: Sequence[str] | None = None,
) -> Breakdown:
    cells = Counter((category(r), _in_series(r, series)) for r in results)
    names = list(keep) if keep is not None else sorted({c for c, _ in cells})
    if numeric and keep is None:
        names.sort(key=int)
    rows = tuple((name, tuple(cells[name, s] for s in series)) for name in names)
    return Breakdown(series, rows)


def _by_hour(results: Sequence[ContactResult], series: tuple[str, ...]) -> Breakdown:
    timed = [r for r in results if r.local_hour is not None]
    hours = [f"{hour:02d}" for hour in range(24)]
    return _breakdown(timed, series, lambda r: f"{r.local_hour:02d}", keep=hours)


def _by_region(results: Sequence[ContactResult], series: tuple[str, ...]) -> Breakdown:
    ranked = Counter(r.region or "unknown" for r in results).most_common(MAX_REGIONS)
    kept = [name for name, _ in ranked]
    shown = [r for r in results if (r.region or "unknown") in kept]
    return _breakdown(shown, series, lambda r: r.region or "unknown", keep=kept)


def _costs(results: Sequence[ContactResult], order: Sequence[str]) -> list[OutcomeCost]:
    out = []
    for name in order:
        mine = [r for r in results if label(r) == name]
        known = [r.cost_cents for r in mine if r.cost_cents is not None]
        out.append(OutcomeCost(name, len(mine), sum(known), len(mine) - len(known)))
    return out


def _extracted(results: Sequence[ContactResult]) -> list[tuple[str, list[Bucket]]]:
    values: dict[str, Counter[str]] = {}
    for result in results:
        for name, value in result.extracted:
            values.setdefault(name, Counter())[value] += 1
    ranked = sorted(values.items(), key=lambda item: (-item[1].total(), item[0]))[:TOP_FIELDS]
    return [
        (name, [Bucket(value, n) for value, n in counts.most_common(TOP_VALUES)])
        for name, counts in ranked
    ]
