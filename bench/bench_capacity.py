"""Benchmark: the figures of docs/capacity.md, each beside a baseline measured in the same run.

    .venv/bin/python bench/bench_capacity.py [--runs N] [--contacts N]

1. claims  the dispatch ceiling (bench_dispatch's: pacing off, simulator instant, every contact
           followed to a final status) with one worker process (-P threads -c 16) on a primary
           with one replica, alternating DIALER_REDIS_WAIT_REPLICAS=0 (the baseline) and =1
           (each claim waits for the replica before its create), fresh workers each time.
           Per contact: contacts/s, worker CPU, Redis CPU (primary and replica), Redis commands
           (INFO commandstats), Redis memory once the campaign is done.
2. redis   redis-benchmark against the same primary between the runs of 1 (SET and GET, 16
           clients): the commands per second one Redis core answers on this machine.
3. inflight  calls in flight per worker thread: one worker process with 4 threads, calls that
           last seconds (simulator --speed 30), pacing off; the most calls in progress at once
           at the simulator (GET /_sim/stats max_active), beside the baseline of one call per
           thread (4).

4. campaigns  the cost of many campaigns at once: 300 contacts at 20/s in total, as 1 campaign
           at 20/s (the baseline) and as 100 campaigns of 3 contacts at 0.2/s each, one worker
           process (-c 16), alternating; Redis commands and CPU per second and per contact.

    .venv/bin/python bench/bench_capacity.py [--runs N] [--contacts N] [CASE ...]

CASE is claims, inflight or campaigns (all three when none is named).

Everything runs on loopback and shares the machine's cores; the load average is printed first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import bench_dispatch as bd  # noqa: E402

from campaigns.model import Contact  # noqa: E402
from dialer.store import Store  # noqa: E402
from workers.celery_app import make_app  # noqa: E402


def replica_of(primary: bd.RedisProc) -> bd.RedisProc:
    """A second redis-server replicating `primary`, in sync."""
    replica = bd.RedisProc(Path(tempfile.mkdtemp(prefix="bench-replica-")))  # its RDB goes there
    replica.client.replicaof("127.0.0.1", primary.port)
    bd.wait_until(
        lambda: replica.client.info("replication").get("master_link_status") == "up",
        30,
        "the replica to sync",
    )
    return replica


def claims_case(
    rs: bd.RedisProc, replica: bd.RedisProc, sim: bd.SimProc, n: int, wait: int, log: Path
) -> dict[str, float]:
    """One dispatch run of `n` contacts with DIALER_REDIS_WAIT_REPLICAS=`wait`."""
    rs.client.flushall()
    sim.reset()
    app = make_app(rs.url)
    env = bd.worker_env(rs.url, sim.url)
    env["DIALER_REDIS_WAIT_REPLICAS"] = str(wait)
    store = Store.from_url(rs.url)
    cid = f"capacity-{wait}-{time.monotonic_ns()}"
    with bd.workers(1, 16, env, log, app) as procs:
        empty = rs.client.info("memory")["used_memory"]
        bd.submit(store, cid, n, rate=1e6, max_concurrent=10_000)
        rs.client.config_resetstat()
        pids = [procs[0].pid, rs.proc.pid, replica.proc.pid]
        cpu0 = [bd.cpu_s(pid) for pid in pids]
        elapsed = bd.run_campaign(store, cid, 600)
        cpu = [bd.cpu_s(pid) - before for pid, before in zip(pids, cpu0, strict=True)]
        stats = bd.commandstats(rs.client)
        done = rs.client.info("memory")["used_memory"]
        bd.check_all_final(store, sim, cid, n)
    store.redis.close()
    return {
        "rate": n / elapsed,
        "worker_cpu_ms": 1000 * cpu[0] / n,
        "redis_cpu_ms": 1000 * cpu[1] / n,
        "replica_cpu_ms": 1000 * cpu[2] / n,
        "commands": sum(stats.values()) / n,
        "evalsha": stats.get("evalsha", 0) / n,
        "wait": stats.get("wait", 0) / n,
        "bytes_done": (done - empty) / n,
    }


def redis_benchmark(rs: bd.RedisProc) -> float:
    """SET and GET per second from redis-benchmark (16 clients), their mean."""
    out = subprocess.run(
        ["redis-benchmark", "-p", str(rs.port), "-q", "-n", "100000", "-c", "16", "-t", "set,get"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    rates = [
        float(line.split(":")[1].split()[0]) for line in out.splitlines() if "requests" in line
    ]
    rs.client.flushall()
    return statistics.mean(rates)


def inflight_case(rs: bd.RedisProc, n: int, log: Path) -> dict[str, float]:
    """The most calls in progress at once with 4 worker threads and calls lasting seconds."""
    sim = bd.SimProc(speed=30)
    rs.client.flushall()
    app = make_app(rs.url)
    store = Store.from_url(rs.url)
    try:
        env = bd.worker_env(rs.url, sim.url, timing="poll_scale=0.05,post_call_wait_s=0")
        with bd.workers(1, 4, env, log, app):
            bd.submit(store, "inflight", n, rate=1e6, max_concurrent=10_000)
            elapsed = bd.run_campaign(store, "inflight", 600)
            active = sim.http.get("/_sim/stats").json()["max_active"]
    finally:
        sim.stop()
        store.redis.close()
    return {"max_active": float(active), "threads": 4.0, "s": elapsed}


def campaigns_case(rs: bd.RedisProc, sim: bd.SimProc, count: int, log: Path) -> dict[str, float]:
    """300 contacts at 20/s in total, split over `count` campaigns, started together."""
    rs.client.flushall()
    sim.reset()
    app = make_app(rs.url)
    store = Store.from_url(rs.url)
    total, each = 300, 300 // count
    names = [f"many-{count}-{i}" for i in range(count)]
    with bd.workers(1, 16, bd.worker_env(rs.url, sim.url), log, app) as procs:
        for number, name in enumerate(names):
            config = bd.campaign_config(name, rate_per_s=20 / count, max_concurrent=10_000)
            people = [  # each campaign its own people: one number is called once in 30 min
                Contact(r, f"+1415{3_000_000 + number * 1000 + r:07d}", {"phone": ""})
                for r in range(1, each + 1)
            ]
            bd.lifecycle.submit(store, config, [people])
        rs.client.config_resetstat()
        pids = [procs[0].pid, rs.proc.pid]
        cpu0 = [bd.cpu_s(pid) for pid in pids]
        started = time.perf_counter()
        for name in names:
            bd.lifecycle.start(store, name)
        finished = lambda: all(  # noqa: E731
            store.campaign_state(n) is bd.CampaignState.DONE for n in names
        )
        bd.wait_until(finished, 300, "every campaign to finish", every=0.05)
        elapsed = time.perf_counter() - started
        cpu = [bd.cpu_s(pid) - before for pid, before in zip(pids, cpu0, strict=True)]
        calls = sum(bd.commandstats(rs.client).values())
    store.redis.close()
    return {
        "s": elapsed,
        "commands_per_s": calls / elapsed,
        "commands_per_contact": calls / total,
        "redis_cpu_ms_per_s": 1000 * cpu[1] / elapsed,
        "worker_cpu_ms_per_contact": 1000 * cpu[0] / total,
    }


def show(label: str, values: list[dict[str, float]]) -> None:
    keys = values[0].keys()
    parts = []
    for key in keys:
        got = [v[key] for v in values]
        parts.append(f"{key} {statistics.median(got):,.2f} [{min(got):,.2f}-{max(got):,.2f}]")
    print(f"{label}: " + ", ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("cases", nargs="*", help="claims, inflight, campaigns (default: all)")
    args = parser.parse_args()
    unknown = set(args.cases) - {"claims", "inflight", "campaigns"}
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    print(f"load average before: {os.getloadavg()}")
    log = Path(tempfile.mkdtemp(prefix="bench-capacity-"))
    rs, sim = bd.RedisProc(), bd.SimProc()
    replica = replica_of(rs)
    found: dict[str, list[dict[str, float]]] = {}
    cases = set(args.cases or ("claims", "inflight", "campaigns"))
    try:
        for run in range(args.runs):
            if "claims" in cases:
                found.setdefault("redis-benchmark", []).append({"ops_per_s": redis_benchmark(rs)})
                for wait in (0, 1):
                    measured = claims_case(rs, replica, sim, args.contacts, wait, log)
                    found.setdefault(f"claims WAIT {wait}", []).append(measured)
                    print(f"  run {run + 1} WAIT {wait}: {measured['rate']:,.0f} contacts/s")
            if "campaigns" in cases:
                for count in (1, 100):
                    measured = campaigns_case(rs, sim, count, log)
                    found.setdefault(f"{count} campaign(s)", []).append(measured)
                    print(f"  run {run + 1} {count} campaign(s): {measured['s']:.1f} s")
        if "inflight" in cases:
            found["inflight"] = [inflight_case(rs, 200, log)]
    finally:
        for proc in (sim, replica, rs):
            proc.stop()
    for label, values in found.items():
        show(label, values)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
