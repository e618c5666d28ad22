"""The campaign report as one self-contained HTML page: inline CSS and SVG charts, no script.

Nothing is fetched when the page is opened, so it can be mailed or archived as is. Every piece
of text that came from the results file is HTML-escaped. Chart bars carry `data-label` and
`data-value` attributes (and the summary cells a `data-key`) so tools and tests can read the
numbers back.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from campaigns.report import Report, summary_rows
from campaigns.report_rows import Bucket
from campaigns.report_sales import Breakdown, SalesReport

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 40
MAX_X_LABELS = 16
LEGEND_STEP = 110
# The page loads nothing: no scripts, no fetches, only its own inline styles.
CSP = "default-src 'none'; style-src 'unsafe-inline'"

# What the charts and tables need; also embedded where the web page shows the charts.
CHART_CSS = """
td.n{text-align:right;white-space:nowrap}
svg.chart{width:100%;height:auto;font-size:11px}.axis{stroke:#999}.grid{stroke:#eee}
.s0{fill:#4c78a8}.s1{fill:#f58518}.s2{fill:#54a24b}.s3{fill:#e45756}.s4{fill:#72b7b2}
.s5{fill:#b279a2}.tick{fill:#555}.legend{fill:#333}
.empty{color:#777;font-style:italic}.note{color:#666;font-size:.9em}
.meter{background:#4c78a8;height:.6em;display:inline-block;vertical-align:middle}
.wide{overflow-x:auto;max-width:100%}
"""
CSS = (
    """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:780px;color:#222;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem}
.meta{color:#666;margin-top:0}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25rem .5rem;
border-bottom:1px solid #eee;vertical-align:top}
#summary td{font-weight:600;text-align:right}
"""
    + CHART_CSS
)


@dataclass(frozen=True, slots=True)
class Column:
    """One category on a bar chart: its label, a value per series, and a hover text."""

    label: str
    values: tuple[float, ...]
    tip: str


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


# -- SVG bar charts -----------------------------------------------------------------------------


def bar_chart(
    chart_id: str, columns: Sequence[Column], series: Sequence[str], *, y_max: float | None = None
) -> str:
    """An SVG bar chart, one bar per series in each column."""
    top = y_max or max((v for c in columns for v in c.values), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg id="{_e(chart_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" xmlns="http://www.w3.org/2000/svg">',
        *_grid(top, plot_w, plot_h),
    ]
    if not columns:
        parts.append(f'<text class="empty" x="{LEFT + 8}" y="{TOP + plot_h / 2}">no data</text>')
    slot = plot_w / max(len(columns), 1)
    every = -(-len(columns) // MAX_X_LABELS) or 1
    for i, column in enumerate(columns):
        parts += _bars(column, series, LEFT + i * slot, slot, top, plot_h)
        if i % every == 0:
            x = LEFT + (i + 0.5) * slot
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{TOP + plot_h + 16}" '
                f'text-anchor="middle">{_e(column.label)}</text>'
            )
    parts += _legend(series)
    parts.append("</svg>")
    return "\n".join(parts)


def _grid(top: float, plot_w: float, plot_h: float) -> list[str]:
    lines = []
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        lines.append(
            f'<line class="{"axis" if fraction == 0 else "grid"}" x1="{LEFT}" '
            f'x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        lines.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{_e(_num(round(top * fraction, 2)))}</text>'
        )
    return lines


def _bars(
    column: Column, series: Sequence[str], x0: float, slot: float, top: float, plot_h: float
) -> list[str]:
    width = slot * 0.8 / max(len(series), 1)
    bars = []
    for s, (name, value) in enumerate(zip(series, column.values, strict=True)):
        height = plot_h * value / top
        x = x0 + slot * 0.1 + s * width
        y = TOP + plot_h - height
        bars.append(
            f'<rect class="bar s{s}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
            f'height="{height:.1f}" data-label="{_e(column.label)}" data-series="{_e(name)}" '
            f'data-value="{_e(_num(value))}"><title>{_e(column.tip)}</title></rect>'
        )
    return bars


def _legend(series: Sequence[str]) -> list[str]:
    if len(series) < 2:
        return []
    items = []
    for s, name in enumerate(series):
        x = LEFT + 8 + s * LEGEND_STEP
        items.append(
            f'<rect class="s{s}" x="{x}" y="{HEIGHT - 14}" width="10" height="10"/>'
            f'<text class="legend" x="{x + 14}" y="{HEIGHT - 5}">{_e(name)}</text>'
        )
    return items


# -- the charts ---------------------------------------------------------------------------------


def _counts(chart_id: str, buckets: Sequence[Bucket], what: str) -> str:
    columns = [Column(b.label, (b.count,), f"{b.label}: {b.count} {what}") for b in buckets]
    return bar_chart(chart_id, columns, (what,))


def _over_time(report: Report) -> str:
    columns = [
        Column(label, (calls, connects), f"{label} UTC: {calls} calls, {connects} connected")
        for label, calls, connects in report.over_time
    ]
    return bar_chart("chart-over-time", columns, ("calls", "connected"))


def _pickup_by_hour(report: Report) -> str:
    columns = []
    for b in report.by_local_hour:
        rate = round(100 * b.count / b.of, 1) if b.of else 0.0
        tip = f"{b.label}:00 local: {b.count} of {b.of} picked up" + (f" ({rate}%)" if b.of else "")
        columns.append(Column(b.label, (rate,), tip))
    return bar_chart("chart-pickup-by-hour", columns, ("pick-up rate %",), y_max=100)


def _breakdown(chart_id: str, breakdown: Breakdown, what: str) -> str:
    if not breakdown.series:
        return bar_chart(chart_id, [], (what,))
    columns = [
        Column(
            name,
            tuple(float(n) for n in counts),
            f"{name}: "
            + ", ".join(f"{s} {n}" for s, n in zip(breakdown.series, counts, strict=True)),
        )
        for name, counts in breakdown.rows
    ]
    return bar_chart(chart_id, columns, breakdown.series)


def _cents(value: float | None) -> str:
    return "-" if value is None else f"${value / 100:,.2f}"


def _outcome_table(sales: SalesReport) -> str:
    if not sales.outcomes:
        return '<p id="table-outcomes" class="empty">No contact was dialled.</p>'
    costs = {c.label: c for c in sales.costs}
    rows = "".join(
        f'<tr data-label="{_e(b.label)}" data-value="{b.count}"><td>{_e(b.label)}</td>'
        f'<td class="n">{b.count}</td><td class="n">{b.count / b.of:.1%}</td>'
        f'<td class="n">{_cents(costs[b.label].mean_cents)}</td>'
        f'<td class="n">{_cents(sales.cost_per(b))}</td></tr>'
        for b in sales.outcomes
    )
    return (
        '<div class="wide"><table id="table-outcomes"><thead><tr><th>outcome</th>'
        '<th class="n">contacts</th>'
        '<th class="n">share</th><th class="n">mean cost of its calls</th>'
        '<th class="n">campaign cost per one</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def _extracted(sales: SalesReport) -> str:
    if not sales.extracted:
        return '<p id="table-extracted" class="empty">The agent extracted nothing.</p>'
    rows = "".join(
        f'<tr data-field="{_e(name)}" data-label="{_e(b.label)}" data-value="{b.count}">'
        f'<td>{_e(name)}</td><td>{_e(b.label)}</td><td class="n">{b.count}</td></tr>'
        for name, buckets in sales.extracted
        for b in buckets
    )
    return (
        '<div class="wide"><table id="table-extracted"><thead><tr><th>field</th><th>value</th>'
        f'<th class="n">contacts</th></tr></thead><tbody>{rows}</tbody></table></div>'
    )


def sales_sections(report: Report) -> list[str]:
    """The sections about what the agent achieved (the web page shows them too)."""
    sales = report.sales
    unknown = f" Cost unknown for {sales.cost_unknown} calls." if sales.cost_unknown else ""
    return [
        _section(
            "outcomes",
            "Outcomes",
            _counts("chart-outcomes", sales.outcomes, "contacts") + _outcome_table(sales),
            "As the agent classified each dialled contact's last call. Campaign cost per one: "
            f"all known carrier cost divided by the contacts with that outcome.{unknown}",
        ),
        _section(
            "outcomes-by-attempt",
            "Outcomes by attempt",
            _breakdown("chart-outcomes-by-attempt", sales.by_attempt, "contacts"),
            "The attempt on which each contact's last call was made.",
        ),
        _section(
            "outcomes-by-hour",
            "Outcomes by the recipient's local hour",
            _breakdown("chart-outcomes-by-hour", sales.by_local_hour, "contacts"),
        ),
        _section(
            "outcomes-by-region",
            "Outcomes by state or country",
            _breakdown("chart-outcomes-by-region", sales.by_region, "contacts"),
        ),
        _section("extracted", "Top extracted values", _extracted(sales)),
    ]


def charts(report: Report) -> str:
    """The outcome charts and the statuses, with their styles, to embed in another page."""
    statuses = _counts("chart-statuses", report.statuses, "contacts")
    return (
        f"<style>{CHART_CSS}</style>"
        + "\n".join(sales_sections(report))
        + _section("statuses", "Statuses", statuses)
    )


def _text_table(table_id: str, buckets: Sequence[Bucket], heading: str) -> str:
    if not buckets:
        return f'<p id="{table_id}" class="empty">None.</p>'
    top = max(b.count for b in buckets)
    rows = "".join(
        f'<tr data-label="{_e(b.label)}" data-value="{b.count}"><td>{_e(b.label)}</td>'
        f'<td class="n">{b.count} <span class="meter" style="width:{60 * b.count / top:.0f}px">'
        f"</span></td></tr>"
        for b in buckets
    )
    return (
        f'<table id="{table_id}"><thead><tr><th>{_e(heading)}</th><th class="n">contacts'
        f"</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _summary(report: Report) -> str:
    rows = "".join(
        f'<tr><th>{_e(label)}</th><td data-key="{_e(key)}">{_e(value)}</td></tr>'
        for key, label, value in summary_rows(report)
    )
    return f'<table id="summary"><tbody>{rows}</tbody></table>'


def _section(section_id: str, title: str, body: str, note: str = "") -> str:
    extra = f'<p class="note">{_e(note)}</p>' if note else ""
    return f'<section id="{section_id}"><h2>{_e(title)}</h2>{body}{extra}</section>'


def render(report: Report, *, source: str, now: datetime | None = None) -> str:
    """The whole page for `report`, read from the results file named `source`."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        _section("overview", "Summary", _summary(report)),
        *sales_sections(report),
        _section("statuses", "Statuses", _counts("chart-statuses", report.statuses, "contacts")),
        _section(
            "over-time",
            "Calls and connects over time",
            _over_time(report),
            "Each contact counts once, at its last call (UTC).",
        ),
        _section(
            "pickup-by-hour",
            "Pick-up rate by the recipient's local hour",
            _pickup_by_hour(report),
            f"Local time from each number's time zone; {report.no_local_hour} dialled "
            "contacts have no single time zone or no call time and are left out.",
        ),
        _section(
            "durations",
            "Call duration (connected calls)",
            _counts("chart-durations", report.durations, "calls"),
        ),
        _section(
            "attempts",
            "Attempts per contact",
            _counts("chart-attempts", report.attempts_per_contact, "contacts"),
        ),
        _section(
            "end-reasons",
            "Top end reasons",
            _text_table("table-end-reasons", report.end_reasons, "end reason"),
        ),
        _section("errors", "Top errors", _text_table("table-errors", report.errors, "error")),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>Campaign report: {_e(source)}</title><style>{CSS}</style></head><body>"
        f'<h1>Campaign report</h1><p class="meta">{_e(source)} &middot; generated {stamp}</p>'
        + "\n".join(sections)
        + "</body></html>\n"
    )
