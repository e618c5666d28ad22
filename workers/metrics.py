"""Prometheus metrics, read from the store at each scrape (`/metrics`).

Nothing is counted in a process: every figure is read from Redis when Prometheus asks, so the
counts match the results file, whichever process serves them and however often workers were
restarted. Per-campaign series (label `campaign`) exist only for campaigns not yet finished (the
tick still serves them); `dialer_contacts_all` sums every campaign, finished ones included.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from celery import bootsteps
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from campaigns.results import attempts_made
from dialer.settings import load_settings
from dialer.store import FINAL_STATES, ContactRecord, Store
from dialer.store.outbox import Outbox
from workers import stack
from workers.queues import DIAL_QUEUE, FOLLOW_QUEUE

CALL_LENGTH_BUCKETS_S = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
CREATE_LATENCY_BUCKETS_S = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_HTTP_CODE = re.compile(r"\bHTTP (\d{3})\b")


def error_code(error: str) -> str:
    """The HTTP status a stored OneInbox error names, or `none` when no answer came."""
    match = _HTTP_CODE.search(error)
    return match.group(1) if match else "none"


@dataclass
class CampaignFigures:
    """One campaign's figures, as its results file would give them."""

    creates: int = 0  # attempts dialled (the results file's `attempts`, summed)
    statuses: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # of final contacts with one
    errors: Counter[str] = field(default_factory=Counter)  # contacts holding an error, by code
    call_lengths: list[float] = field(default_factory=list)
    create_latencies: list[float] = field(default_factory=list)
    waiting: dict[str, int] = field(default_factory=dict)

    def add(self, contact: ContactRecord) -> None:
        """Count one contact."""
        self.creates += attempts_made(contact)
        self.statuses[contact.state.value] += 1
        if contact.state in FINAL_STATES and contact.outcome:
            self.outcomes[contact.outcome] += 1
        if contact.error:
            self.errors[error_code(contact.error)] += 1
        if contact.duration_seconds:
            self.call_lengths.append(float(contact.duration_seconds))
        if contact.placed_at and contact.claimed_at_ms:
            latency = contact.placed_at.timestamp() - contact.claimed_at_ms / 1000
            self.create_latencies.append(max(0.0, latency))


def campaign_figures(store: Store, cid: str) -> CampaignFigures:
    """The campaign's figures, from every contact as stored now."""
    figures = CampaignFigures()
    for contact in store.iter_contacts(cid):
        figures.add(contact)
    _, reasons = store.waiting(cid)
    figures.waiting = {reason: count for reason, (count, _) in reasons.items()}
    return figures


def histogram(
    name: str, doc: str, buckets: tuple[float, ...], values: dict[str, list[float]]
) -> HistogramMetricFamily:
    """A histogram family with one series per campaign, from the values observed."""
    family = HistogramMetricFamily(name, doc, labels=["campaign"], unit="seconds")
    for cid, observed in values.items():
        cumulative = [(str(b), float(sum(1 for v in observed if v <= b))) for b in buckets]
        cumulative.append(("+Inf", float(len(observed))))
        family.add_metric([cid], cumulative, sum_value=sum(observed))
    return family


def families(by_campaign: dict[str, CampaignFigures]) -> Iterator[Metric]:
    """The per-campaign metric families of these campaigns' figures."""
    creates = CounterMetricFamily("dialer_creates", "Calls created", labels=["campaign"])
    statuses = GaugeMetricFamily(
        "dialer_contacts", "Contacts by status", labels=["campaign", "status"]
    )
    outcomes = CounterMetricFamily(
        "dialer_outcomes", "Final contacts by call outcome", labels=["campaign", "outcome"]
    )
    errors = GaugeMetricFamily(
        "dialer_oneinbox_errors",
        "Contacts whose last OneInbox request failed, by HTTP status",
        labels=["campaign", "code"],
    )
    waiting = GaugeMetricFamily(
        "dialer_contacts_waiting",
        "Pending contacts by why they wait",
        labels=["campaign", "reason"],
    )
    for cid, figures in by_campaign.items():
        creates.add_metric([cid], figures.creates)
        _labelled(statuses, cid, figures.statuses.items())
        _labelled(outcomes, cid, figures.outcomes.items())
        _labelled(errors, cid, figures.errors.items())
        _labelled(waiting, cid, figures.waiting.items())
    yield from (creates, statuses, outcomes, errors, waiting)
    lengths = {cid: f.call_lengths for cid, f in by_campaign.items()}
    latencies = {cid: f.create_latencies for cid, f in by_campaign.items()}
    yield histogram("dialer_call_length", "Call lengths", CALL_LENGTH_BUCKETS_S, lengths)
    yield histogram(
        "dialer_create_latency", "Claim to call created", CREATE_LATENCY_BUCKETS_S, latencies
    )


def _labelled(family: Metric, cid: str, items: Iterable[tuple[str, int]]) -> None:
    for label, value in sorted(items):
        family.add_metric([cid, label], value)  # type: ignore[attr-defined]


class StoreCollector(Collector):
    """Collects the dialer's metrics from the store, at each scrape."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()  # one scrape at a time reads the store

    def collect(self) -> Iterator[Metric]:
        """Every metric family, read now."""
        with self.lock:
            store = self.store
            unfinished = store.active_campaigns()
            yield from families({cid: campaign_figures(store, cid) for cid in unfinished})
            yield self._totals()
            depth = GaugeMetricFamily("dialer_queue_depth", "Tasks queued", labels=["queue"])
            for queue in (DIAL_QUEUE, FOLLOW_QUEUE):
                depth.add_metric([queue], int(store.redis.llen(queue)))
            yield depth
            yield GaugeMetricFamily(
                "dialer_events_due",
                "Events not yet delivered",
                value=Outbox(store.redis).due_count(),
            )

    def _totals(self) -> Metric:
        total = GaugeMetricFamily(
            "dialer_contacts_all", "Contacts of every campaign by status", labels=["status"]
        )
        sums: Counter[str] = Counter()
        for cid in self.store.campaign_ids():
            sums.update(self.store.counts(cid))
        for status, count in sorted(sums.items()):
            total.add_metric([status], count)
        return total


def registry(store: Store) -> CollectorRegistry:
    """A registry holding only the store's metrics."""
    found = CollectorRegistry(auto_describe=False)
    found.register(StoreCollector(store))
    return found


def serve_metrics(store: Store, port: int) -> None:
    """Serve /metrics at 127.0.0.1:`port` from a background thread."""
    start_http_server(port, addr="127.0.0.1", registry=registry(store))


class MetricsStep(bootsteps.StartStopStep):  # type: ignore[misc]
    """Serves /metrics from the worker when DIALER_METRICS_PORT (`--metrics-port`) is set."""

    def start(self, parent: Any) -> None:
        settings = load_settings()
        if settings.metrics_port and settings.redis_url:
            serve_metrics(stack.connect(settings.redis_url, ping=False), settings.metrics_port)
