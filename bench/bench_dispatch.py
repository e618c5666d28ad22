"""Benchmark: dispatch ceiling, pace accuracy, time to first create, Redis memory per contact.

    .venv/bin/python bench/bench_dispatch.py [--quick] [--runs N] [--write | --no-write]
                                             [ceiling] [pace] [startup] [memory] [durability]

With no benchmark named, all five run. Every figure is printed beside a baseline measured in the
same run. A full run of all five (no --quick) rewrites the section "Dispatch (issue 4)" of
docs/benchmarks.md (`--write` forces it, `--no-write` prevents it). Loopback only; every child
process (redis-server, `dialer simulator`, Celery workers, `dialer run`) is started here, in its
own session, and stopped here; every wait is bounded.

1. ceiling  calls placed AND followed to a final status per second (from `lifecycle.start` to the
            campaign's state DONE), simulator at --speed 100000 (calls end and post-call fields
            appear at once), pacing off (rate 1e6/s, max_concurrent 10000), DIALER_TIMING
            poll_scale=0.001,post_call_wait_s=0, with 1 and 2 worker processes
            (`workers.stack.worker_command(16)`: -P threads -c 16). Baseline: a no-op task
            (ignore_result) on the same app config and worker argv (bench/bench_dispatch_noop.py),
            N messages pre-loaded, the clock runs from `add_consumer` until the queue and kombu's
            `unacked` are empty (perf-baseline section 3b). Target: dispatch >= 1/4 of no-op.
2. pace     2 workers x -c 32 (bench/bench_dispatch_probe.py: the real app plus thread and
            pace-wait counters), 10/s x 100 contacts and 100/s x 1000 contacts, simulator
            instant and with every create delayed 300 ms (fault slow:create:delay=0.3). Most
            creates in any 1 s window (target rate+1) and mean over the span of creates (target
            >= 98% of rate), from the simulator's GET /_sim/creates. Baselines: the ideal, and a
            naive client (one process, absolute schedule t0 + i/rate, 32 sender threads).
            Then the shared account: two campaigns, each allowed 10/s, on one account limited
            to 10/s (`dialer limits`), half the contacts each; both campaigns' creates
            counted together against the same targets. `--shared-account`: only the 10/s
            instant case and this one.
3. startup  `dialer run` of a 1-row CSV in the embedded default (no DIALER_REDIS_URL, a fresh
            DIALER_STATE_DIR): Popen to the simulator's first create, median of 5. Target < 2 s.
            Baselines: `dialer --help`, a bare `redis-server` until PING, a bare
            `celery -A workers.celery_app worker` until it answers a ping.
4. memory   Redis used_memory per contact for `Store.add_contacts` of 100,000 contacts with two
            short variables (first_name, order_id). Target < 1 KiB plus the variables. Baseline:
            one plain HSET per contact (same key names) with just phone + row.
5. durability  the cost of durable claims: the ceiling's dispatch (1 worker process, N contacts)
            on one redis-server with its data on disk, alternating `appendonly no` (the
            ceiling's setting), `appendfsync everysec` (the embedded default until issue 12) and
            `appendfsync always` (the embedded default since, and what `dialer run` and
            `dialer worker` require of an external Redis), switched by CONFIG SET between runs.

--quick: small sizes, one run each, for a smoke check (about a minute).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import functools
import itertools
import json
import os
import pickle
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The tree measured: this one, or the one `./dev bench` names (bench/gate.py, a base checkout).
ROOT = Path(os.environ.get("DIALER_BENCH_TREE") or Path(__file__).resolve().parent.parent)
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import redis  # noqa: E402

try:  # a base older than the lifecycle (./dev bench --base) submits through the session
    from campaigns import lifecycle
except ImportError:  # pragma: no cover
    from workers import session as lifecycle  # type: ignore[no-redef]
from campaigns.model import Contact  # noqa: E402
from dialer.campaign import CampaignConfig, CampaignState  # noqa: E402
from dialer.simulator.config import (  # noqa: E402
    DEFAULT_AGENT_ID,
    DEFAULT_API_KEY,
    DEFAULT_FROM_NUMBER,
)
from dialer.store import Store  # noqa: E402
from dialer.store.keys import contact_key, ready_key  # noqa: E402
from workers.celery_app import DIAL_QUEUE, make_app  # noqa: E402
from workers.processes import free_port, redis_server_binary, worker_command  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Dispatch (issue 4)"
PY = Path(sys.executable)
DIALER = PY.with_name("dialer")
FAST_TIMING = "poll_scale=0.001,post_call_wait_s=0"
FINAL = {"completed", "voicemail", "no_answer", "failed"}
BENCHES = ("ceiling", "pace", "startup", "memory", "durability")
FSYNC_MODES = ("no", "everysec", "always")


# -- small helpers ---------------------------------------------------------------------------


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def stop(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM the child's process group (started with start_new_session), then SIGKILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def cpu_s(pid: int, *, tree: bool = True) -> float:
    """utime + stime of a process and (with `tree`) its live descendants, seconds (0 when it is
    gone). A worker is a supervisor with the Celery worker as its child: the tree is what counts.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + (sum(cpu_s(child) for child in _children(pid)) if tree else 0.0)


def box_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONEINBOX_", "DIALER_"))}
    env.update(extra)
    return env


def max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float], fmt: str = "{:,.0f}") -> str:
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(med(values))} [{fmt.format(min(values))}–{fmt.format(max(values))}]"


# -- processes -------------------------------------------------------------------------------


class RedisProc:
    """A private redis-server on loopback: no persistence, unless given a `data_dir`."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            [redis_server_binary(), "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert self.proc.stdin is not None
        conf = (
            f'port {self.port}\nbind 127.0.0.1\nsave ""\nappendonly no\n'
            "maxmemory-policy noeviction\n"
        )
        if data_dir is not None:
            conf += f'dir "{data_dir}"\n'
        self.data_dir = data_dir
        self.proc.stdin.write(conf.encode())
        self.proc.stdin.close()
        self.client = redis.Redis.from_url(self.url, decode_responses=True)

        def up() -> bool:
            try:
                return bool(self.client.ping())
            except redis.ConnectionError:
                return False

        wait_until(up, 10, "redis-server")

    def stop(self) -> None:
        self.client.close()
        stop(self.proc, 10)


class SimProc:
    """`dialer simulator` as its own process."""

    def __init__(self, speed: float = 100000, faults: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [
            str(DIALER),
            "simulator",
            "--port",
            str(self.port),
            "--speed",
            str(speed),
            "--seed",
            "1",
            "--daily-cap",
            "100000000",
        ]
        for spec in faults:
            argv += ["--fault", spec]
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=clean_env(),
            cwd=ROOT,
            start_new_session=True,
        )
        self.http = httpx.Client(base_url=self.url, timeout=30)

        def up() -> bool:
            try:
                return self.http.get("/_sim/stats").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, 20, "the simulator")

    def reset(self) -> None:
        self.http.post("/_sim/reset").raise_for_status()

    def creates(self) -> list[dict[str, Any]]:
        return [c for c in self.http.get("/_sim/creates").json() if c["call_id"]]

    def fault(self, rule: dict[str, Any] | None) -> None:
        self.http.delete("/_sim/faults").raise_for_status()
        if rule:
            self.http.post("/_sim/faults", json=rule).raise_for_status()

    def stop(self) -> None:
        self.http.close()
        stop(self.proc, 10)


def worker_env(redis_url: str, sim_url: str, timing: str = FAST_TIMING) -> dict[str, str]:
    return clean_env(
        DIALER_REDIS_URL=redis_url,
        ONEINBOX_API_KEY=DEFAULT_API_KEY,
        ONEINBOX_BASE_URL=sim_url,
        DIALER_TIMING=timing,
        PYTHONPATH=f"{BENCH}{os.pathsep}{ROOT}",
    )


def start_workers(
    n: int,
    concurrency: int,
    env: dict[str, str],
    log_dir: Path,
    app_module: str = "workers.celery_app",
    queues: str | None = None,
) -> list[subprocess.Popen[bytes]]:
    procs = []
    for i in range(n):
        argv = worker_command(concurrency, name=f"bench{i}-{os.getpid()}-{time.monotonic_ns()}@%h")
        argv[argv.index("workers.celery_app")] = app_module
        if queues is not None:
            argv[argv.index("-Q") + 1] = queues
        with (log_dir / f"worker-{app_module}-{i}.log").open("ab") as log:
            procs.append(
                subprocess.Popen(
                    argv,
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=log,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
    return procs


def wait_workers(
    app: Any, n: int, procs: list[subprocess.Popen[bytes]], timeout: float = 40
) -> None:
    def up() -> bool:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a worker exited at start; see bench/out/*.log")
        return len(app.control.ping(timeout=0.2)) >= n

    wait_until(up, timeout, f"{n} worker(s) to answer a ping", every=0.0)


@contextlib.contextmanager
def workers(
    n: int, concurrency: int, env: dict[str, str], log_dir: Path, app: Any, **kw: Any
) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs = start_workers(n, concurrency, env, log_dir, **kw)
    try:
        wait_workers(app, n, procs)
        yield procs
    finally:
        for p in procs:
            stop(p)


def commandstats(client: redis.Redis) -> dict[str, int]:
    info = client.info("commandstats")
    return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in info.items()}


def campaign_config(cid: str, **kw: Any) -> CampaignConfig:
    """The campaign's settings; dialling allowed at any hour when the config has a window."""
    names = getattr(CampaignConfig, "model_fields", None) or {
        f.name
        for f in dataclasses.fields(CampaignConfig)  # type: ignore[arg-type]
    }
    if "window" in names:
        kw.setdefault("window", "always")
    return CampaignConfig(
        campaign_id=cid, agent_id=DEFAULT_AGENT_ID, from_number=DEFAULT_FROM_NUMBER, **kw
    )


def contacts(
    n: int,
    columns: tuple[str, ...] = ("phone", "first_name", "order_id"),
) -> list[Contact]:
    out = []
    for r in range(1, n + 1):
        phone = f"+1415{2000000 + r:07d}"
        row = {
            "phone": phone,
            "first_name": ("Ana", "Bo", "Chloé", "Dev")[r % 4],
            "order_id": f"ORD-{r:08d}",
        }
        out.append(
            Contact(r, phone, {c: row[c] for c in columns}, {"first_name": row["first_name"]})
        )
    return out


def submit(store: Store, cid: str, n: int, rate: float, max_concurrent: int, **kw: Any) -> None:
    config = campaign_config(
        cid,
        rate_per_s=rate,
        max_concurrent=max_concurrent,
        **kw,
        columns=("phone", "first_name"),
        variable_columns=("first_name",),
    )
    batch = contacts(n, ("phone", "first_name"))
    lifecycle.submit(store, config, [batch[i : i + 1000] for i in range(0, n, 1000)])


BENCH_POLLS = [0]  # the bench's own reads of a campaign's state, left out of the dialer's count


def run_campaign(store: Store, cid: str, timeout: float) -> float:
    """start() to DONE, seconds."""
    t0 = time.perf_counter()
    lifecycle.start(store, cid)

    def done() -> bool:
        BENCH_POLLS[0] += 1
        return store.campaign_state(cid) is CampaignState.DONE

    wait_until(done, timeout, f"campaign {cid} to finish", every=0.01)
    return time.perf_counter() - t0


def check_all_final(store: Store, sim: SimProc, cid: str, n: int) -> dict[str, int]:
    creates = sim.creates()
    ids = {c["metadata"]["dialer_attempt_id"] for c in creates}
    if len(creates) != n or len(ids) != n:
        raise AssertionError(f"{cid}: {len(creates)} creates for {len(ids)} attempts, {n} wanted")
    counts = store.counts(cid)
    if set(counts) - FINAL or sum(counts.values()) != n:
        raise AssertionError(f"{cid}: not all final: {counts}")
    return counts


# -- 1. dispatch ceiling ---------------------------------------------------------------------


@dataclass
class Measured:
    rates: list[float] = field(default_factory=list)
    extra: list[dict[str, float]] = field(default_factory=list)


def noop_case(rs: RedisProc, sim: SimProc, procs_n: int, n: int, log_dir: Path) -> dict[str, float]:
    rs.client.flushall()
    app = make_app(rs.url)
    env = worker_env(rs.url, sim.url)
    with workers(
        procs_n, 16, env, log_dir, app, app_module="bench_dispatch_noop", queues="bench.idle"
    ) as procs:
        with app.producer_or_acquire() as producer:
            for _ in range(n):
                app.send_task("bench.noop", queue=DIAL_QUEUE, producer=producer)
        assert rs.client.llen(DIAL_QUEUE) == n
        cpu0 = [cpu_s(p.pid) for p in procs]
        t0 = time.perf_counter()
        app.control.add_consumer(DIAL_QUEUE, reply=False)
        wait_until(
            lambda: rs.client.llen(DIAL_QUEUE) == 0 and rs.client.hlen("unacked") == 0,
            120,
            "the no-op queue to drain",
            every=0.01,
        )
        elapsed = time.perf_counter() - t0
        cpu = sum(cpu_s(p.pid) for p in procs) - sum(cpu0)
    return {"rate": n / elapsed, "s": elapsed, "worker_cpu_ms_per": 1000 * cpu / n}


def dispatch_case(
    rs: RedisProc, sim: SimProc, procs_n: int, n: int, log_dir: Path, tag: str
) -> dict[str, float]:
    rs.client.flushall()
    sim.reset()
    app = make_app(rs.url)
    env = worker_env(rs.url, sim.url)
    store = Store.from_url(rs.url)
    cid = f"ceiling-{tag}"
    with workers(procs_n, 16, env, log_dir, app) as procs:
        submit(store, cid, n, rate=1e6, max_concurrent=10_000)
        rs.client.config_resetstat()
        pids = [p.pid for p in procs] + [os.getpid(), sim.proc.pid, rs.proc.pid]
        me = os.getpid()
        cpu0 = [cpu_s(p, tree=p != me) for p in pids]
        busy0 = box_busy()
        BENCH_POLLS[0] = 0
        elapsed = run_campaign(store, cid, 300)
        busy1 = box_busy()
        cpu = [cpu_s(p, tree=p != me) - c for p, c in zip(pids, cpu0, strict=True)]
        stats = commandstats(rs.client)
        times = sorted(c["t"] for c in sim.creates())
        check_all_final(store, sim, cid, n)
    store.redis.close()
    calls = sum(stats.values()) - BENCH_POLLS[0]  # the dialer's commands, not the bench's
    return {
        "rate": n / elapsed,
        "s": elapsed,
        "create_rate": (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0,
        "worker_cpu_ms_per": 1000 * sum(cpu[:procs_n]) / n,
        "sim_cpu_ms_per": 1000 * cpu[-2] / n,
        "redis_cpu_ms_per": 1000 * cpu[-1] / n,
        "bench_cpu_ms_per": 1000 * cpu[-3] / n,
        "box_busy": (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]),
        "redis_calls_per": calls / n,
        "evalsha_per": stats.get("evalsha", 0) / n,
        "lpush_per": stats.get("lpush", 0) / n,
        "hgetall_per": stats.get("hgetall", 0) / n,
    }


def bench_ceiling(
    rs: RedisProc, sim: SimProc, args: argparse.Namespace, log_dir: Path
) -> dict[str, Any]:
    n_disp, n_noop = (300, 1000) if args.quick else (3000, 10000)
    res: dict[str, Measured] = {k: Measured() for k in ("noop1", "disp1", "noop2", "disp2")}
    for run in range(args.runs):
        for procs_n in (1, 2):
            for kind in ("noop", "disp"):
                if kind == "noop":
                    m = noop_case(rs, sim, procs_n, n_noop, log_dir)
                else:
                    m = dispatch_case(rs, sim, procs_n, n_disp, log_dir, f"{procs_n}p-{run}")
                res[f"{kind}{procs_n}"].rates.append(m["rate"])
                res[f"{kind}{procs_n}"].extra.append(m)
                print(
                    f"  ceiling run {run + 1}: {kind} x{procs_n} process(es): "
                    f"{m['rate']:,.0f}/s ({m['s']:.1f} s)",
                    flush=True,
                )
    return {"n_disp": n_disp, "n_noop": n_noop, "runs": args.runs, "res": res}


def set_fsync(rs: RedisProc, mode: str) -> None:
    """`no`: append-only file off; else on, with `appendfsync` = mode (after its rewrite)."""
    rs.client.config_set("appendonly", "no" if mode == "no" else "yes")
    if mode != "no":
        rs.client.config_set("appendfsync", mode)
    wait_until(
        lambda: not int(rs.client.info("persistence")["aof_rewrite_in_progress"]),
        60,
        "the append-only file's rewrite",
    )


def bench_durability(sim: SimProc, args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    n = 300 if args.quick else 3000
    res: dict[str, Measured] = {mode: Measured() for mode in FSYNC_MODES}
    (BENCH / "out").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BENCH / "out", prefix="aof-") as data:
        rs = RedisProc(Path(data))
        try:
            for run in range(args.runs):
                for mode in FSYNC_MODES:
                    set_fsync(rs, mode)
                    m = dispatch_case(rs, sim, 1, n, log_dir, f"fsync-{mode}-{run}")
                    m["aof_delayed_fsync"] = float(
                        rs.client.info("persistence").get("aof_delayed_fsync", 0)
                    )
                    res[mode].rates.append(m["rate"])
                    res[mode].extra.append(m)
                    print(f"  durability run {run + 1}: {mode}: {m['rate']:,.0f}/s", flush=True)
        finally:
            rs.stop()
    return {"n": n, "runs": args.runs, "res": res}


# -- 2. pace accuracy ------------------------------------------------------------------------


def probe_snapshot(client: redis.Redis) -> dict[str, int]:
    total: dict[str, int] = {}
    for key in client.scan_iter("bench:probe:*"):
        for k, v in client.hgetall(key).items():
            total[k] = total.get(k, 0) + int(v)
    return total


def pace_metrics(times: list[float], rate: float) -> dict[str, float]:
    """Most in 1 s, mean, longest gap of create times."""
    times = sorted(times)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    mean = (len(times) - 1) / span if len(times) > 1 else float("nan")
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return {
        "n": len(times),
        "max_1s": max_in_window(times),
        "mean": mean,
        "mean_pct": 100 * mean / rate,
        "max_gap_ms": 1000 * max(gaps, default=0.0),
    }


def post_to_arrival(client: redis.Redis, creates: list[dict[str, Any]]) -> dict[str, float]:
    """Where the creates bunch: most in 1 s at each stamp on a create's way (the probe app's
    `bench:sent`: the guard's pass, right before the POST, the first write to the socket; the
    simulator's: its app first seeing the request, and its create log), and how long each took
    from the POST to the simulator's stamp, ms."""
    sent = {str(k): str(v).split() for k, v in client.hgetall("bench:sent").items()}
    client.delete("bench:sent")
    rows = [
        (*map(float, sent[key]), c.get("received", c["t"]), c["t"])
        for c in creates
        if (key := c["metadata"]["dialer_attempt_id"]) in sent
    ]
    if not rows:
        return {}
    out: dict[str, float] = {"sent_stamped": len(rows)}
    for i, name in enumerate(("asked", "guard", "sent", "wire", "received"), start=0):
        out[f"{name}_max_1s"] = max_in_window([r[i] for r in rows if r[i] > 0])
    segments = (
        ("reply", 0, 1),  # the guard's round trip: Redis, and the wait for the interpreter
        ("guard", 1, 2),
        ("post", 2, 3),
        ("wire", 3, 4),
        ("app", 4, 5),
        ("lag", 2, 5),
    )
    for name, a, b in segments:
        lags = sorted(1000 * (r[b] - r[a]) for r in rows if r[a] > 0 and r[b] > 0)
        if lags:
            out[f"{name}_ms_p50"] = lags[len(lags) // 2]
            out[f"{name}_ms_p99"] = lags[min(len(lags) - 1, round(0.99 * len(lags)))]
            out[f"{name}_ms_max"] = lags[-1]
    return out


def where_they_bunch(m: dict[str, Any]) -> str:
    """Most creates in 1 s at each stamp, and each segment's lag p50/p99/max, ms."""
    stamps = ("asked", "guard", "sent", "wire", "received")
    most = " ".join(f"{name} {m[f'{name}_max_1s']}" for name in stamps if f"{name}_max_1s" in m)
    lags = " ".join(
        f"{name} {m[f'{name}_ms_p50']:.1f}/{m[f'{name}_ms_p99']:.1f}/{m[f'{name}_ms_max']:.1f}"
        for name in ("reply", "guard", "post", "wire", "app", "lag")
        if f"{name}_ms_p50" in m
    )
    return f"most in 1 s: {most} simulator {m['max_1s']}; ms p50/p99/max: {lags}"


def pace_case(
    rs: RedisProc, sim: SimProc, rate: float, n: int, slow: bool, run: int = 0
) -> dict[str, Any]:
    sim.reset()
    sim.fault({"kind": "slow", "endpoint": "create", "delay": 0.3} if slow else None)
    store = Store.from_url(rs.url)
    cid = f"pace-{rate:g}-{'slow' if slow else 'fast'}{f'-{run}' if run else ''}"
    # The cases call the same numbers one after the other: no gap between campaigns' calls.
    submit(store, cid, n, rate=rate, max_concurrent=1000, min_gap_s=0.0)
    # The probe publishes every 100 ms; take the baseline after a fresh publish.
    time.sleep(0.15)
    before, stats0 = probe_snapshot(rs.client), commandstats(rs.client)
    elapsed = run_campaign(store, cid, 30 + 3 * n / rate)
    time.sleep(0.15)
    after, stats1 = probe_snapshot(rs.client), commandstats(rs.client)
    check_all_final(store, sim, cid, n)
    creates = sim.creates()
    claimed = [contact.claimed_at_ms / 1000 for contact in store.iter_contacts(cid)]
    store.redis.close()
    sim.fault(None)
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    hist = {int(k.split(":")[1]): v for k, v in delta.items() if k.startswith("busy:")}
    samples = sum(hist.values()) or 1
    m = pace_metrics([c["t"] for c in creates], rate)
    # As a provider's edge counts them: when the simulator's app first saw each create (a base
    # tree's simulator has only `t`).
    m["arrived_max_1s"] = max_in_window([c.get("received", c["t"]) for c in creates])
    m.update(post_to_arrival(rs.client, creates))
    m.update(
        claims_per=(stats1.get("evalsha", 0) - stats0.get("evalsha", 0)) / n,
        claim_max_1s=max_in_window(claimed),
        s=elapsed,
        pace_sleeps_per=delta.get("sleeps", 0) / n,
        connects=delta.get("connects", 0),
        requests_per=delta.get("requests", 0) / n,
        pace_sleep_thread_s=delta.get("sleep_us", 0) / 1e6,
        busy_mean=sum(k * v for k, v in hist.items()) / samples,
        busy_max=max(hist, default=0),
        # per worker (the two workers' samples are pooled): threads busy out of 32
        saturated_pct=100 * sum(v for k, v in hist.items() if k >= 32) / samples,
    )
    return m


ACCOUNT = "bench-account"


def account_case(rs: RedisProc, sim: SimProc, rate: float, n: int) -> dict[str, Any]:
    """Two campaigns, each allowed `rate` on its own, sharing one account limited to `rate`:
    the account's pace is measured over both campaigns' creates together."""
    from dialer.account import AccountLimits

    sim.reset()
    store = Store.from_url(rs.url)
    store.set_limits(ACCOUNT, AccountLimits(rate_per_s=rate))
    cids = [f"account-{rate:g}-{side}" for side in "ab"]
    for i, cid in enumerate(cids):
        config = campaign_config(
            cid, rate_per_s=rate, max_concurrent=1000, columns=("phone",), account=ACCOUNT
        )
        batch = [
            Contact(r, f"+1415{4000000 + i * n + r:07d}", {"phone": ""})
            for r in range(1, n // 2 + 1)
        ]
        lifecycle.submit(store, config, [batch])
    t0 = time.perf_counter()
    for cid in cids:
        lifecycle.start(store, cid)
    for cid in cids:
        wait_until(
            lambda cid=cid: store.campaign_state(cid) is CampaignState.DONE,  # type: ignore[misc]
            30 + 3 * n / rate,
            f"campaign {cid} to finish",
            every=0.01,
        )
    elapsed = time.perf_counter() - t0
    creates = sim.creates()
    if len(creates) != n // 2 * 2:
        raise AssertionError(f"shared account: {len(creates)} creates, {n // 2 * 2} wanted")
    store.clear_limits(ACCOUNT)
    store.redis.close()
    m = pace_metrics([c["t"] for c in creates], rate)
    per = [sum(1 for c in creates if c["metadata"]["dialer_campaign"] == cid) for cid in cids]
    m.update(s=elapsed, per_campaign=per)
    return m


def naive_case(sim: SimProc, rate: float, n: int, slow: bool) -> dict[str, float]:
    """A naive sender: absolute schedule t0 + i/rate, 32 threads, one process; no Redis."""
    sim.reset()
    sim.fault({"kind": "slow", "endpoint": "create", "delay": 0.3} if slow else None)
    client = httpx.Client(
        base_url=sim.url,
        timeout=10,
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
        limits=httpx.Limits(max_connections=64),
    )

    def send(i: int) -> None:
        client.post(
            "/v1/calls",
            json={
                "agent_id": DEFAULT_AGENT_ID,
                "to_number": f"+1415{3000000 + i:07d}",
                "from_number": DEFAULT_FROM_NUMBER,
                "metadata": {"dialer_attempt_id": f"naive:{i}"},
            },
        ).raise_for_status()

    with ThreadPoolExecutor(32) as pool:
        t0 = time.monotonic() + 0.05
        futures = []
        for i in range(n):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(send, i))
        for f in futures:
            f.result(timeout=30)
    client.close()
    sim.fault(None)
    return pace_metrics([c["t"] for c in sim.creates()], rate)


def bench_pace(
    rs: RedisProc, sim: SimProc, args: argparse.Namespace, log_dir: Path
) -> dict[str, Any]:
    cases = [(10.0, 20), (100.0, 200)] if args.quick else [(10.0, 100), (100.0, 1000)]
    slows = (False, True)
    if args.shared_account:  # only the 10/s case beside its shared-account twin
        cases, slows = cases[:1], (False,)
    rs.client.flushall()
    app = make_app(rs.url)
    env = worker_env(rs.url, sim.url)
    out: dict[str, Any] = {"cases": cases, "slows": slows, "dialer": {}, "naive": {}}
    with workers(2, 32, env, log_dir, app, app_module="bench_dispatch_probe"):
        for rate, n in cases:
            for slow in slows:
                m = pace_case(rs, sim, rate, n, slow)
                out["dialer"][(rate, slow)] = m
                print(
                    f"  pace {rate:g}/s {'300 ms' if slow else 'instant'}: max/1s "
                    f"{m['max_1s']} (as they arrived {m['arrived_max_1s']}), mean "
                    f"{m['mean']:.2f}/s ({m['mean_pct']:.1f}%), claims/"
                    f"contact {m['claims_per']:.1f}, pace sleeps {m['pace_sleep_thread_s']:.1f}"
                    f" thread-s, busy threads per worker mean {m['busy_mean']:.1f} max "
                    f"{m['busy_max']}, saturated {m['saturated_pct']:.0f}%",
                    flush=True,
                )
                print(f"    {where_they_bunch(m)}", flush=True)
        rate, n = cases[0]
        shared = out["account"] = account_case(rs, sim, rate, n)
        print(
            f"  pace {rate:g}/s shared by 2 campaigns of one account: max/1s "
            f"{shared['max_1s']}, mean {shared['mean']:.2f}/s ({shared['mean_pct']:.1f}%), "
            f"creates per campaign {shared['per_campaign']}",
            flush=True,
        )
    if args.shared_account:
        return out
    for rate, n in cases:
        for slow in slows:
            m = naive_case(sim, rate, n, slow)
            out["naive"][(rate, slow)] = m
            print(
                f"  pace naive {rate:g}/s {'300 ms' if slow else 'instant'}: max/1s "
                f"{m['max_1s']}, mean {m['mean']:.2f}/s",
                flush=True,
            )
    return out


# -- 3. time to first create -----------------------------------------------------------------


@functools.cache
def run_window_flag() -> tuple[str, ...]:
    """`--window always` when `dialer run` has calling windows (dial now, whatever the hour)."""
    out = subprocess.run(
        [str(DIALER), "run", "--help"],
        env=clean_env(COLUMNS="200"),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    ).stdout
    return ("--window", "always") if "--window" in out else ()


def first_create_case(sim: SimProc, tmp: Path, i: int) -> dict[str, float]:
    sim.reset()
    work = tmp / f"run{i}"
    work.mkdir()
    csv = work / "contacts.csv"
    csv.write_text("phone,first_name\n+14155551001,Ana\n")
    env = clean_env(
        ONEINBOX_API_KEY=DEFAULT_API_KEY,
        ONEINBOX_BASE_URL=sim.url,
        DIALER_AGENT_ID=DEFAULT_AGENT_ID,
        DIALER_FROM_NUMBER=DEFAULT_FROM_NUMBER,
        DIALER_STATE_DIR=str(work / "state"),
    )
    with (work / "out.log").open("wb") as log:
        t0 = time.time()
        argv = [str(DIALER), "run", str(csv), "--rate", "10/s", *run_window_flag()]
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=work,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        first: list[float] = []

        def created() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"dialer run exited {proc.returncode}; see {work}/out.log")
            found = sim.creates()
            first.extend(c["t"] for c in found)
            return bool(found)

        wait_until(created, 30, "the first create of `dialer run`", every=0.01)
        proc.wait(timeout=60)
        total = time.time() - t0
    finally:
        stop(proc, 30)
    if proc.returncode != 0:
        raise RuntimeError(f"dialer run exited {proc.returncode}; see {work}/out.log")
    return {"first_create": min(first) - t0, "whole_run": total}


def timed(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, check=True, timeout=60)
    return time.perf_counter() - t0


def bare_worker_case(rs: RedisProc, sim: SimProc, log_dir: Path) -> float:
    rs.client.flushall()
    app = make_app(rs.url)
    t0 = time.perf_counter()
    procs = start_workers(1, 16, worker_env(rs.url, sim.url, ""), log_dir)
    try:
        wait_workers(app, 1, procs)
        return time.perf_counter() - t0
    finally:
        for p in procs:
            stop(p)


def bare_redis_case() -> float:
    t0 = time.perf_counter()
    server = RedisProc()
    elapsed = time.perf_counter() - t0
    server.stop()
    return elapsed


def bench_startup(
    rs: RedisProc, sim: SimProc, args: argparse.Namespace, log_dir: Path
) -> dict[str, Any]:
    runs = 2 if args.quick else 5
    out: dict[str, list[float]] = {"first": [], "whole": [], "help": [], "worker": [], "redis": []}
    with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as tmp:
        for i in range(runs):
            m = first_create_case(sim, Path(tmp), i)
            out["first"].append(m["first_create"])
            out["whole"].append(m["whole_run"])
            out["help"].append(timed([str(DIALER), "--help"], clean_env()))
            out["redis"].append(bare_redis_case())
            out["worker"].append(bare_worker_case(rs, sim, log_dir))
            print(
                f"  startup run {i + 1}: first create {m['first_create']:.2f} s (whole run "
                f"{m['whole_run']:.2f} s); dialer --help {out['help'][-1]:.2f} s; "
                f"redis-server {out['redis'][-1]:.2f} s; bare worker to ping "
                f"{out['worker'][-1]:.2f} s",
                flush=True,
            )
    return {"runs": runs, **out}


# -- 4. memory per contact -------------------------------------------------------------------


def used(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def bench_memory(rs: RedisProc, args: argparse.Namespace) -> dict[str, Any]:
    n = 10_000 if args.quick else 100_000
    columns = ("phone", "first_name", "order_id")
    people = contacts(n, columns)
    cid = "contacts-1a2b3c4d"
    rs.client.flushall()
    store = Store.from_url(rs.url)
    store.create_campaign(campaign_config(cid, columns=columns, variable_columns=columns[1:]))
    before = used(rs.client)
    t0 = time.perf_counter()
    store.add_contacts(cid, people, columns)
    add_s = time.perf_counter() - t0
    after = used(rs.client)
    sample = rs.client.hkeys(contact_key(cid, n // 2))  # the hash fields one contact has
    per_key = int(rs.client.memory_usage(contact_key(cid, n // 2)) or 0)
    ready = int(rs.client.memory_usage(ready_key(cid)) or 0)
    store.redis.close()
    row_json = [
        json.dumps([c.row[k] for k in columns], ensure_ascii=False).encode() for c in people
    ]
    var_bytes = [
        len(c.row["first_name"].encode()) + len(c.row["order_id"].encode()) for c in people
    ]

    rs.client.flushall()
    base_before = used(rs.client)
    pipe = rs.client.pipeline(transaction=False)
    t0 = time.perf_counter()
    for c, raw in zip(people, row_json, strict=True):
        pipe.hset(contact_key(cid, c.source_row), mapping={"phone": c.phone_e164, "row": raw})
        if len(pipe) >= 1000:
            pipe.execute()
    pipe.execute()
    base_s = time.perf_counter() - t0
    base_after = used(rs.client)
    base_key = int(rs.client.memory_usage(contact_key(cid, n // 2)) or 0)
    rs.client.flushall()
    return {
        "n": n,
        "per": (after - before) / n,
        "base_per": (base_after - base_before) / n,
        "row_json": statistics.mean(len(r) for r in row_json),
        "vars": statistics.mean(var_bytes),
        "fields": sorted(sample),
        "key_usage": per_key,
        "ready_per": ready / n,
        "base_key_usage": base_key,
        "add_rate": n / add_s,
        "base_rate": n / base_s,
        "total_mb": (after - before) / 2**20,
    }


# -- report ----------------------------------------------------------------------------------


def git(*args: str) -> str:
    out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return out.stdout.strip()


def machine() -> dict[str, str]:
    import celery

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    mem_kb = int(
        next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    )
    server = (
        subprocess.run(
            [redis_server_binary(), "--version"], capture_output=True, text=True, check=True
        )
        .stdout.split()[2]
        .removeprefix("v=")
    )
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": f"{mem_kb / 2**20:.1f} GiB",
        "python": platform.python_version(),
        "celery": celery.__version__,
        "redis_py": redis.__version__,
        "redis_server": server,
        "kernel": platform.release(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": git(
            "status", "--porcelain", "--untracked-files=no", "--", "dialer", "workers", "campaigns"
        ),
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def md_ceiling(c: dict[str, Any]) -> list[str]:
    res = c["res"]
    lines = [
        "### 1. Dispatch ceiling",
        "",
        f"N = {c['n_disp']:,} contacts per dispatch run, {c['n_noop']:,} messages per no-op run; "
        f"{c['runs']} run(s) of each, alternating, fresh workers and a flushed Redis each time; "
        "median [min–max]. Dispatch: `lifecycle.submit` (untimed), then `lifecycle.start` to the "
        "campaign state DONE, every contact followed to a final status and exactly one create "
        "per contact checked. No-op: queue pre-loaded, `add_consumer` to queue and `unacked` "
        "empty.",
        "",
        "| worker processes | no-op tasks/s (baseline) | dispatch contacts/s | dispatch ÷ no-op "
        "| target ≥ 1/4 | creates/s over the span of creates |",
        "| ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for p in (1, 2):
        noop, disp = res[f"noop{p}"], res[f"disp{p}"]
        ratio = med(disp.rates) / med(noop.rates)
        creates = [e["create_rate"] for e in disp.extra]
        lines.append(
            f"| {p} | {spread(noop.rates)} | {spread(disp.rates)} | {ratio:.2f} "
            f"| {verdict(ratio >= 0.25)} | {spread(creates)} |"
        )
    lines += [
        "",
        "Per contact, dispatch runs (median over runs):",
        "",
        "| worker processes | worker CPU ms | simulator CPU ms | redis CPU ms "
        "| this script CPU ms | box busy (2 cores) | Redis commands | of which EVALSHA "
        "| LPUSH (tasks sent) | HGETALL "
        "| no-op worker CPU ms per task |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in (1, 2):
        ex = res[f"disp{p}"].extra

        def m(key: str, ex: list[dict[str, float]] = ex) -> float:
            return med([e[key] for e in ex])

        nm = med([e["worker_cpu_ms_per"] for e in res[f"noop{p}"].extra])
        lines.append(
            f"| {p} | {m('worker_cpu_ms_per'):.2f} | {m('sim_cpu_ms_per'):.2f} "
            f"| {m('redis_cpu_ms_per'):.2f} | {m('bench_cpu_ms_per'):.2f} "
            f"| {100 * m('box_busy'):.0f}% "
            f"| {m('redis_calls_per'):.1f} | {m('evalsha_per'):.1f} | {m('lpush_per'):.1f} "
            f"| {m('hgetall_per'):.1f} | {nm:.2f} |"
        )
    return lines


def md_pace(p: dict[str, Any]) -> list[str]:
    lines = [
        "### 2. Pace accuracy (2 worker processes × `-P threads -c 32`)",
        "",
        "Contacts: " + ", ".join(f"{n:,} at {r:g}/s" for r, n in p["cases"]) + ". Create "
        "times are the simulator's `t` (GET /_sim/creates); with the 300 ms fault the handler "
        "logs `t` after the delay, so every `t` is shifted by the same 300 ms. Mean = (creates "
        "− 1) ÷ (last − first). EVALSHA per contact: the claim, the send guard when the slot "
        "was ahead (once more per refusal), two transitions and a share of the tick's pump: "
        "about 4 when nobody waits. Pace waits: sleeps until a send slot, or until the send "
        "guard lets a create go. Busy threads: tasks in progress in one "
        'worker (of its 32 threads), sampled every 5 ms in each worker; "saturated" = share '
        "of samples with all 32 busy.",
        "",
        "| rate | create latency | max in 1 s (target ≤ rate+1) | mean/s (target ≥ 98%) "
        "| claims (Redis clock): max in 1 s | longest gap ms | naive: max in 1 s "
        "| naive: mean/s | EVALSHA per contact "
        "| pace waits per contact | thread-s asleep in pace waits "
        "| busy threads mean / max (saturated) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for rate, _ in p["cases"]:
        for slow in p.get("slows", (False, True)):
            d, nv = p["dialer"][(rate, slow)], p["naive"].get((rate, slow), {})
            ok_max, ok_mean = d["max_1s"] <= rate + 1, d["mean_pct"] >= 98
            lines.append(
                f"| {rate:g}/s | {'300 ms' if slow else 'instant'} "
                f"| {d['max_1s']} ({verdict(ok_max)}) "
                f"| {d['mean']:.2f} = {d['mean_pct']:.1f}% ({verdict(ok_mean)}) "
                f"| {d['claim_max_1s']} | {d['max_gap_ms']:.0f} | {nv.get('max_1s', '-')} "
                f"| {nv.get('mean', float('nan')):.2f} "
                f"| {d['claims_per']:.1f} | {d['pace_sleeps_per']:.1f} "
                f"| {d['pace_sleep_thread_s']:.0f} | {d['busy_mean']:.1f} / {d['busy_max']} "
                f"({d['saturated_pct']:.0f}%) |"
            )
    return lines + md_account(p)


def md_account(p: dict[str, Any]) -> list[str]:
    """The shared-account row: two campaigns of one account, measured in the same run."""
    if "account" not in p:
        return []
    a, (rate, n) = p["account"], p["cases"][0]
    ok_max, ok_mean = a["max_1s"] <= rate + 1, a["mean_pct"] >= 98
    return [
        "",
        f"Shared account: two campaigns, each allowed {rate:g}/s on its own, on one account "
        f"limited to {rate:g}/s (`dialer limits set --rate {rate:g}/s`), {n // 2} contacts each, "
        "started together; both campaigns' creates counted together.",
        "",
        "| account rate | max in 1 s (target ≤ rate+1) | mean/s (target ≥ 98%) "
        "| longest gap ms | creates per campaign |",
        "| ---: | ---: | ---: | ---: | --- |",
        f"| {rate:g}/s | {a['max_1s']} ({verdict(ok_max)}) "
        f"| {a['mean']:.2f} = {a['mean_pct']:.1f}% ({verdict(ok_mean)}) "
        f"| {a['max_gap_ms']:.0f} | {' + '.join(str(x) for x in a['per_campaign'])} |",
    ]


def md_startup(s: dict[str, Any]) -> list[str]:
    first = med(s["first"])
    return [
        "### 3. Time from `dialer run` to the first create",
        "",
        f"{s['runs']} runs, each with a fresh `DIALER_STATE_DIR`, a 1-row CSV, no "
        "`DIALER_REDIS_URL` (embedded Redis with append-only persistence + one worker), the "
        "simulator process; from `Popen` to the simulator's first create `t`. Median [min–max].",
        "",
        "| what | seconds |",
        "| --- | ---: |",
        f"| **`dialer run` → first create** (target < 2 s: {verdict(first < 2)}) "
        f"| {spread(s['first'], '{:.2f}')} |",
        f"| `dialer run` whole process (1 contact, to exit) | {spread(s['whole'], '{:.2f}')} |",
        f"| baseline: `dialer --help` (interpreter + CLI imports) "
        f"| {spread(s['help'], '{:.2f}')} |",
        f"| baseline: bare `redis-server` until PING | {spread(s['redis'], '{:.3f}')} |",
        f"| baseline: bare `celery -A workers.celery_app worker` (threads c16) until it answers "
        f"a ping | {spread(s['worker'], '{:.2f}')} |",
    ]


def md_memory(m: dict[str, Any]) -> list[str]:
    minus = m["per"] - m["row_json"]
    return [
        "### 4. Redis memory per contact",
        "",
        f"{m['n']:,} contacts, columns phone, first_name, order_id (two short variables: "
        f"{m['vars']:.1f} bytes of values on average; the stored `row` JSON is "
        f"{m['row_json']:.1f} bytes); INFO memory `used_memory` before and after "
        "`Store.add_contacts`.",
        "",
        "| storage | bytes per contact | minus the row JSON | MEMORY USAGE of one contact key "
        "| load rate contacts/s |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| `Store.add_contacts` (hash with {', '.join(m['fields'])}; `ready` zset; counts) "
        f"| {m['per']:.0f} | {minus:.0f} ({verdict(minus < 1024)}: target < 1 KiB) "
        f"| {m['key_usage']} | {m['add_rate']:,.0f} |",
        f"| baseline: one plain HSET per contact (phone, row) | {m['base_per']:.0f} "
        f"| {m['base_per'] - m['row_json']:.0f} | {m['base_key_usage']} "
        f"| {m['base_rate']:,.0f} |",
        "",
        f"The `ready` zset holds {m['ready_per']:.0f} bytes per contact of that figure; "
        f"{m['n']:,} contacts take {m['total_mb']:.1f} MiB.",
    ]


def md_durability(d: dict[str, Any]) -> list[str]:
    label = {
        "no": "`appendonly no` (as in 1)",
        "everysec": "`appendfsync everysec` (the old embedded default)",
        "always": "**`appendfsync always`** (embedded default now)",
    }
    base = med(d["res"]["everysec"].rates)
    lines = [
        "### 5. Cost of durable claims (`appendfsync always`)",
        "",
        f"The dispatch of 1 (1 worker process, N = {d['n']:,}) on one redis-server whose "
        "append-only file is on this machine's disk (ext4 on a virtual disk), the three "
        f"settings alternating by CONFIG SET, {d['runs']} run(s) each; median [min–max].",
        "",
        "| Redis persistence | dispatch contacts/s | ÷ everysec | creates/s over the span "
        "| redis CPU ms per contact |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for mode in FSYNC_MODES:
        m = d["res"][mode]
        lines.append(
            f"| {label[mode]} | {spread(m.rates)} | {med(m.rates) / base:.2f} "
            f"| {spread([x['create_rate'] for x in m.extra])} "
            f"| {med([x['redis_cpu_ms_per'] for x in m.extra]):.2f} |"
        )
    return lines


def render(results: dict[str, Any], mach: dict[str, str], command: str, findings: str) -> str:
    lines = [
        SECTION,
        "",
        f"Command: `{command}` ({mach['date']}, commit {mach['commit']}"
        + (
            ", with uncommitted changes in "
            + ", ".join(sorted({line.split()[-1] for line in mach["dirty"].splitlines()}))
            if mach["dirty"]
            else ""
        )
        + f"). Machine: {mach['nproc']} vCPU "
        f"{mach['cpu']}, {mach['ram']} RAM, kernel {mach['kernel']}; Python {mach['python']}, "
        f"celery {mach['celery']}, redis-py {mach['redis_py']}, redis-server "
        f"{mach['redis_server']}. Redis: a private `redis-server` on loopback without "
        "persistence (except in 3, which runs the embedded default, and 5). The simulator runs "
        "as its own process (`dialer simulator --speed 100000 --seed 1`), so calls end and their "
        f"post-call fields appear at once; DIALER_TIMING `{FAST_TIMING}` in 1 and 2. Workers "
        "are `workers.stack.worker_command` (`-P threads`, acks_late, prefetch 1, "
        "`-l WARNING`, no gossip/mingle/heartbeat). Everything shares the 2 cores.",
        "",
        "Run it: `.venv/bin/python bench/bench_dispatch.py [--quick] [ceiling] [pace] [startup] "
        "[memory] [durability]` (`--quick`: small sizes, about a minute; the full run of all "
        "five rewrites "
        "this section).",
        "",
    ]
    for name, fn in (
        ("ceiling", md_ceiling),
        ("pace", md_pace),
        ("startup", md_startup),
        ("memory", md_memory),
        ("durability", md_durability),
    ):
        if name in results:
            lines += [*fn(results[name]), ""]
    if findings:
        lines += [findings.rstrip(), ""]
    return "\n".join(lines)


def write_section(text: str) -> None:
    doc = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    start = doc.find(SECTION)
    if start < 0:
        doc = doc.rstrip("\n") + "\n\n" + text
    else:
        nxt = doc.find("\n## ", start + len(SECTION))
        doc = doc[:start] + text + ("\n" + doc[nxt + 1 :] if nxt >= 0 else "")
    DOC.write_text(doc.rstrip("\n") + "\n")


LAST = BENCH / "out" / "dispatch-last.pickle"
# What the figures mean; written under them in docs/benchmarks.md.
NOTES = """\
### What the figures say

- **Ceiling.** A contact costs a dial and at least one follow-up. At high volume the tick packs
  several contacts into each task (up to 64 dial and 16 follow tasks a tick), so Celery's cost
  per task (about 0.6 ms to consume) is spread over several contacts, and the tick's messages
  go out as one pipelined LPUSH (kombu's publish batch). Per contact the worker then makes two
  httpx requests and about five Redis round trips: the dial task reads its contacts in one
  pipeline; the claim returns the contact's fields and, when its send slot is now, also passes
  the send guard; the follow-up reads the contact; two transitions. "Redis commands" counts
  the commands run inside the Lua scripts too, which is why it is about 50. The simulator
  shares the 2 cores: it serves `GET /v1/calls/{id}` on its event loop, and neither the daily
  cap nor the webhook scan walks every call any more (about 0.7 ms per contact, from 1.26).
  Per contact, worker + simulator + redis CPU went from about 3.8 ms to about 2.7 ms (2
  workers). On a quiet box both ratios are about 0.29; a full run earlier the same day, part
  of it beside another test suite on the same cores, gave 0.24 for 2 workers (605 vs 2,474/s):
  the margin over 1/4 is thin when the box is shared.
- **Pace.** A claim books the next send slot of a schedule kept in Redis (GCRA on Redis's
  clock), at most half a second ahead; slots are (1 s + 10 ms) / rate apart, and the task
  sleeps until its slot, counted from when it sent the claim (not from when a busy process
  read the reply). Right before the POST, a send guard (a Lua script that keeps the campaign's
  last send stamps, on Redis's clock) lets at most ceil(rate) creates through in any second:
  on Redis's clock the pace is never exceeded, whatever the jitter before the guard. What
  OneInbox sees also carries the jitter after the guard (a thread waking, the simulator's
  event loop, both on the same 2 cores: about 8 ms at p99 on a quiet box). The 10 ms margin
  in every second absorbs most of it at the cost of 1% of the mean (99%). Two causes of
  bunching were removed: full garbage collections that walked everything built at start and
  stalled all threads for up to ~55 ms (workers and the simulator now `gc.freeze()` after
  starting), and, in the 300 ms case, dials queued behind a slow create in a shared task
  (below 64 dials a tick each has its own task; the mean had lost 1.2% at the start). On a
  loaded box (another benchmark or test suite running) OneInbox can still see rate+2 (the
  same earlier run: 102 at 100/s instant). With one dial per task, the 300 ms case keeps all
  32 threads of a worker busy much of the time (30 creates in flight and about 50 tasks asleep
  until their slot); the mean held, but more threads would be needed at higher rate × latency.
- **Startup.** The preflight runs while the embedded worker boots; the worker's own start
  (about 1.2 s) dominates.
- "claims (Redis clock)" counts when send slots were *booked*, which happens up to half a
  second before the slot; the slots themselves are one interval apart.
- **Memory** is not a concern: about 300 bytes per contact, of which about 100 are the `ready`
  zset entry and 40 the row JSON.
"""


def measure(chosen: list[str], args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    """Run the chosen benchmarks on one private Redis and one simulator process."""
    results: dict[str, Any] = {}
    rs = RedisProc()
    sim = SimProc()
    try:
        if "ceiling" in chosen:
            results["ceiling"] = bench_ceiling(rs, sim, args, log_dir)
        if "pace" in chosen:
            results["pace"] = bench_pace(rs, sim, args, log_dir)
        if "startup" in chosen:
            results["startup"] = bench_startup(rs, sim, args, log_dir)
        if "memory" in chosen:
            results["memory"] = bench_memory(rs, args)
        if "durability" in chosen:
            results["durability"] = bench_durability(sim, args, log_dir)
    finally:
        for child in (sim, rs):
            try:
                child.stop()
            except BaseException as exc:  # still stop the other one
                print(f"could not stop {child}: {exc!r}", file=sys.stderr)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "benchmarks",
        nargs="*",
        metavar="BENCHMARK",
        help=f"any of {', '.join(BENCHES)} (default: all)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument(
        "--shared-account",
        action="store_true",
        help="pace: only the 10/s case and its twin of two campaigns sharing one account",
    )
    parser.add_argument(
        "--runs", type=int, default=None, help="ceiling runs (default 3; 1 with --quick)"
    )
    parser.add_argument(
        "--render-last",
        action="store_true",
        help="measure nothing: re-render the docs section from the last full "
        "run's saved figures (bench/out/dispatch-last.pickle), e.g. after "
        "editing NOTES",
    )
    parser.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="rewrite the docs section (default: only for a full run of all)",
    )
    args = parser.parse_args()
    unknown = set(args.benchmarks) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; choose from {', '.join(BENCHES)}")
    chosen = args.benchmarks or list(BENCHES)
    args.runs = args.runs or (1 if args.quick else 3)
    write = args.write if args.write is not None else (not args.quick and not args.benchmarks)
    if args.render_last:
        saved = pickle.loads(LAST.read_bytes())
        text = render(saved["results"], saved["machine"], saved["command"], NOTES)
        print(text)
        if args.write is not False:
            write_section(text)
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up children on SIGTERM
    log_dir = BENCH / "out" / "dispatch-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    mach = machine()
    print(f"machine: {mach}", flush=True)
    t_all = time.monotonic()
    results = measure(chosen, args, log_dir)
    command = ".venv/bin/python bench/bench_dispatch.py " + " ".join(sys.argv[1:])
    text = render(results, mach, command.strip(), NOTES)
    if write:
        LAST.write_bytes(
            pickle.dumps({"results": results, "machine": mach, "command": command.strip()})
        )
    print()
    print(text)
    print(f"\n(total {time.monotonic() - t_all:.0f} s)")
    if write:
        write_section(text)
        print(f"wrote the section {SECTION!r} of {DOC}")


if __name__ == "__main__":
    main()
