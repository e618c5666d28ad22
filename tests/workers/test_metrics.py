"""Acceptance: /metrics (on `dialer serve` and on a worker's --metrics-port) parses with
`prometheus_client.parser`, and its counts match the results file, after a worker was killed
and another took over. Real worker processes, redis-server, simulator and HTTP."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from campaigns import lifecycle, watch
from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from dialer.settings import Settings
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from dialer.store import FINAL_STATES, Store
from tests.support import RedisServer, Stack, serve_in_thread, wait_until
from workers.metrics import error_code
from workers.processes import free_port
from workers.server.app import build_app
from workers.server.context import Server

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
TOKEN = "test-token-0123456789"
FINAL = {s.value for s in FINAL_STATES}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(text: str) -> Samples:
    """Every sample of an exposition, by name and labels (parsed by prometheus_client)."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def _by(samples: Samples, name: str, label: str, **fixed: str) -> Counter[str]:
    """One label's values of metric `name` (among samples with the `fixed` labels too)."""
    out: Counter[str] = Counter()
    for (sample_name, labels), value in samples.items():
        given = dict(labels)
        if sample_name == name and all(given.get(k) == v for k, v in fixed.items()):
            out[given[label]] += int(value)
    return +out


def _results(store: Store, path: Path) -> list[dict[str, str]]:
    watch.export(store, "m", path)
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _submit(store: Store, n: int) -> None:
    config = CampaignConfig(
        campaign_id="m",
        agent_id=DEFAULT_AGENT_ID,
        from_number=DEFAULT_FROM_NUMBER,
        rate_per_s=4,
        max_concurrent=4,
        columns=("phone",),
        window="always",
        max_attempts=2,  # a retried contact has made two creates
        retry_on="no_answer,failed,voicemail",
        retry_delays="1s",
    )
    rows = [Contact(r, f"+1415555{r + 3000:04d}", {"phone": "x"}) for r in range(1, n + 1)]
    lifecycle.submit(store, config, [rows])
    lifecycle.start(store, "m")


def _serve_metrics(store: Store, redis_url: str, tmp: Path) -> httpx.Response:
    settings = Settings(api_key=DEFAULT_API_KEY, redis_url=redis_url, state_dir=tmp)
    server = Server(settings=settings, store=store, token=TOKEN, state_dir=tmp)
    with serve_in_thread(build_app(server)) as url:
        assert httpx.get(f"{url}/metrics").status_code == 401, "behind the token"
        return httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})


def test_metrics_count_what_the_results_file_says(
    stack: Stack, redis_srv: RedisServer, tmp_path: Path
) -> None:
    store, n = stack.store, 12
    first = stack.worker()
    _submit(store, n)
    wait_until(
        lambda: sum(store.counts("m").get(s, 0) for s in FINAL) >= 4, 60, "some calls to end"
    )
    first.kill()  # the store stands still: what /metrics says is compared with the file

    response = _serve_metrics(store, redis_srv.url, tmp_path)
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    rows = _results(store, tmp_path / "results.csv")
    assert _by(samples, "dialer_contacts", "status", campaign="m") == Counter(
        r["status"] for r in rows
    )
    assert samples[("dialer_creates_total", frozenset({("campaign", "m")}))] == sum(
        int(r["attempts"]) for r in rows
    )
    outcomes = Counter(r["outcome"] for r in rows if r["status"] in FINAL and r["outcome"])
    assert _by(samples, "dialer_outcomes_total", "outcome", campaign="m") == outcomes
    lengths = sum(1 for r in rows if r["duration_seconds"])
    assert outcomes and lengths, "some calls ended with an outcome and a length"
    assert samples[("dialer_call_length_seconds_count", frozenset({("campaign", "m")}))] == lengths
    errors = Counter(error_code(r["error"]) for r in rows if r["error"])
    assert _by(samples, "dialer_oneinbox_errors", "code", campaign="m") == errors

    # Another worker, serving metrics itself, finishes the campaign.
    port = free_port()
    stack.env["DIALER_METRICS_PORT"] = str(port)
    stack.worker()
    wait_until(lambda: store.campaign_state("m") is CampaignState.DONE, 60, "the campaign's end")
    wait_until(lambda: _port_open(port), 20, "the worker's /metrics")
    samples = _samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text)
    rows = _results(store, tmp_path / "results.csv")
    assert _by(samples, "dialer_contacts_all", "status") == Counter(r["status"] for r in rows)
    assert not [k for k in samples if ("campaign", "m") in k[1]], "finished: no campaign label"


def _port_open(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_error_codes_are_read_from_the_stored_error() -> None:
    assert error_code("POST /calls answered HTTP 422: bad number") == "422"
    assert error_code("create uncertain: POST /calls failed in transport") == "none"
