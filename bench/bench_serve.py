"""Benchmark: the API's campaigns list with 100 campaigns, and one campaign of 100,000 contacts.

    .venv/bin/python bench/bench_serve.py [--requests 50]

A private redis-server (the embedded one) holds 100 campaigns of 100 contacts and one of
100,000, stored directly with `Store.add_contacts`; the server's app runs under uvicorn in a
thread of this process, and one keep-alive HTTP client times each request. Baselines measured in
the same run: a FastAPI no-op endpoint on the same server (HTTP + auth + routing, no Redis) and
a bare Redis HGETALL round trip. The Redis commands each request sends (INFO commandstats) show
that a campaign is read from its counters: the same count for 100 contacts as for 100,000.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

# The tree measured: this one, or the one `./dev bench` names (bench/gate.py, a base checkout).
ROOT = Path(os.environ.get("DIALER_BENCH_TREE") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import redis  # noqa: E402
import uvicorn  # noqa: E402

from campaigns.model import Contact  # noqa: E402
from dialer.campaign import CampaignConfig  # noqa: E402
from dialer.settings import Settings  # noqa: E402
from dialer.store import Store  # noqa: E402
from dialer.store.keys import counts_key  # noqa: E402
from workers.processes import embedded_redis  # noqa: E402
from workers.server.app import build_app  # noqa: E402
from workers.server.context import Server  # noqa: E402

TOKEN = "bench-token-0123456789"
BIG = 100_000


def contacts(n: int) -> list[Contact]:
    """`n` contacts with a phone and two columns."""
    return [
        Contact(i, f"+1415{i:07d}", {"phone": f"+1415{i:07d}", "name": f"p{i}"}, {"name": f"p{i}"})
        for i in range(1, n + 1)
    ]


def fill(store: Store) -> None:
    """100 small campaigns and one of BIG contacts, some of them already final."""
    small = contacts(100)
    for n in range(100):
        config = CampaignConfig(
            campaign_id=f"c{n:03d}", agent_id="a", from_number="+14155550100",
            columns=("phone", "name"), source=f"/x/list{n}.csv",
        )  # fmt: skip
        store.create_campaign(config)
        store.add_contacts(config.campaign_id, small, config.columns)
    big = CampaignConfig(campaign_id="big", agent_id="a", from_number="+14155550100",
                         columns=("phone", "name"), source="/x/big.csv")  # fmt: skip
    store.create_campaign(big)
    store.add_contacts("big", contacts(BIG), big.columns)


def timed(call: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of each of `runs` calls, after two warm-up calls."""
    call(), call()
    found = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        found.append((time.perf_counter() - start) * 1000)
    return found


def commands(client: redis.Redis, call: Callable[[], object]) -> int:
    """Redis commands one call sends (INFO commandstats before and after, minus the INFO)."""

    def total() -> int:
        stats = client.info("commandstats")
        return sum(int(v["calls"]) for v in stats.values())

    before = total()
    call()
    return total() - before - 1


def serve(app: object) -> tuple[uvicorn.Server, str]:
    """The app under uvicorn in a thread; its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def row(name: str, ms: list[float]) -> str:
    """One table row: median [min–max] ms."""
    return f"| {name} | {statistics.median(ms):.2f} [{min(ms):.2f}–{max(ms):.2f}] |"


def main() -> None:
    """Fill, serve, time, print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    runs = parser.parse_args().requests
    with tempfile.TemporaryDirectory() as tmp, embedded_redis(Path(tmp)) as private:
        store = Store.from_url(private.url)
        started = time.perf_counter()
        fill(store)
        print(f"setup: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        settings = Settings(api_key="oi_sk_bench", redis_url=private.url, state_dir=Path(tmp))
        app = build_app(Server(settings, store, TOKEN, Path(tmp)))
        app.get("/bench/noop", dependencies=app.router.dependencies)(lambda: {})
        server, url = serve(app)
        raw = redis.Redis.from_url(private.url)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=url, headers=headers) as http:
            listing = lambda: http.get("/api/campaigns").raise_for_status()  # noqa: E731
            big = lambda: http.get("/api/campaigns/big").raise_for_status()  # noqa: E731
            small = lambda: http.get("/api/campaigns/c000").raise_for_status()  # noqa: E731
            noop = lambda: http.get("/bench/noop").raise_for_status()  # noqa: E731
            hgetall = lambda: raw.hgetall(counts_key("big"))  # noqa: E731
            assert len(http.get("/api/campaigns").json()) == 101
            print("| request | ms median [min–max] |\n| --- | ---: |")
            print(row("**GET /api/campaigns** (101 campaigns)", timed(listing, runs)))
            print(row(f"**GET /api/campaigns/big** ({BIG:,} contacts)", timed(big, runs)))
            print(row("GET /api/campaigns/c000 (100 contacts)", timed(small, runs)))
            print(row("baseline: FastAPI no-op endpoint (same server, token checked)",
                      timed(noop, runs)))  # fmt: skip
            print(row("baseline: bare Redis HGETALL round trip", timed(hgetall, runs)))
            print(
                f"\nRedis commands per request: campaigns list {commands(raw, listing)}, "
                f"campaign of {BIG:,} {commands(raw, big)}, campaign of 100 {commands(raw, small)}"
            )
        server.should_exit = True


if __name__ == "__main__":
    main()
