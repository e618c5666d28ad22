"""One short benchmark case of `./dev bench` (bench/gate.py), on the tree DIALER_BENCH_TREE names.

    DIALER_BENCH_TREE=/path/to/tree PYTHONPATH=/path/to/tree \\
        .venv/bin/python bench/gate_case.py CASE [--csv FILE]

Prints one JSON object of figures. Every child process it starts (redis-server, the simulator,
workers, `dialer run`) imports the measured tree's code and is stopped here.

    ceiling    contacts/s placed and followed to the end (1 worker, 300 contacts, no pace), the
               worker's CPU ms and the Redis commands per contact
    pace       100/s over 200 contacts (2 workers x 32 threads): most creates in 1 s (at the
               simulator as its handler logged them and as they arrived, and by when their
               workers were about to POST them), mean %
    first      `dialer run` to the simulator's first create, for 1,000 and 20,000 rows
               (DIALER_BENCH_FIRST_ROWS=1000,100000,1000000: other sizes)
    loader     whole-process `dialer validate` of --csv: wall and CPU seconds
    serve      GET /api/campaigns with 101 campaigns: ms, median of 30
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TREE = Path(os.environ["DIALER_BENCH_TREE"])
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(TREE))

import bench_dispatch as dispatch  # noqa: E402


def ceiling() -> dict[str, float]:
    """The dispatch ceiling's short form: one worker process."""
    rs, sim = dispatch.RedisProc(), dispatch.SimProc()
    try:
        log_dir = Path(tempfile.mkdtemp(prefix="gate-logs-"))
        m = dispatch.dispatch_case(rs, sim, 1, 300, log_dir, "gate")
    finally:
        sim.stop()
        rs.stop()
    return {
        "ceiling_per_s": m["rate"],
        "worker_cpu_ms_per_contact": m["worker_cpu_ms_per"],
        "redis_commands_per_contact": m["redis_calls_per"],
    }


def pace() -> dict[str, float]:
    """The pace at 100/s, instant creates."""
    rs, sim = dispatch.RedisProc(), dispatch.SimProc()
    try:
        app = dispatch.make_app(rs.url)
        env = dispatch.worker_env(rs.url, sim.url)
        log_dir = Path(tempfile.mkdtemp(prefix="gate-logs-"))
        with dispatch.workers(2, 32, env, log_dir, app, app_module="bench_dispatch_probe"):
            m = dispatch.pace_case(rs, sim, 100.0, 200, False)
    finally:
        sim.stop()
        rs.stop()
    return {
        "pace_100_max_in_1s": m["max_1s"],
        "pace_100_max_in_1s_as_they_arrive": m["arrived_max_1s"],
        "pace_100_max_in_1s_at_the_post": m.get("sent_max_1s", float("nan")),
        "pace_100_mean_pct": m["mean_pct"],
    }


FIRST_ROWS = [int(n) for n in os.environ.get("DIALER_BENCH_FIRST_ROWS", "1000,20000").split(",")]


def first() -> dict[str, float]:
    """`dialer run` to the first create, by the list's size."""
    sim = dispatch.SimProc()
    out: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for rows in FIRST_ROWS:
                out[f"first_create_s_{rows}"] = _first_create(sim, Path(tmp), rows)
    finally:
        sim.stop()
    return out


def _first_create(sim: dispatch.SimProc, tmp: Path, rows: int) -> float:
    sim.reset()
    work = tmp / f"rows{rows}"
    work.mkdir()
    csv = work / "contacts.csv"
    with csv.open("w") as f:
        f.write("phone,first_name\n")
        f.writelines(f"+1415{2000000 + i:07d},Ana\n" for i in range(rows))
    env = dispatch.clean_env(
        ONEINBOX_API_KEY=dispatch.DEFAULT_API_KEY,
        ONEINBOX_BASE_URL=sim.url,
        DIALER_AGENT_ID=dispatch.DEFAULT_AGENT_ID,
        DIALER_FROM_NUMBER=dispatch.DEFAULT_FROM_NUMBER,
        DIALER_STATE_DIR=str(work / "state"),
    )
    argv = [str(dispatch.DIALER), "run", str(csv), "--rate", "10/s", *dispatch.run_window_flag()]
    with (work / "out.log").open("wb") as log:
        t0 = time.time()
        proc = subprocess.Popen(
            argv, env=env, cwd=work, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    try:
        created: list[float] = []

        def any_create() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"dialer run exited {proc.returncode}; see {work}/out.log")
            created.extend(c["t"] for c in sim.creates())
            return bool(created)

        wait_s = 120 + rows / 5_000  # a list stored whole before dialling: ~106 s at 1M rows
        dispatch.wait_until(any_create, wait_s, "the first create of `dialer run`", every=0.01)
    finally:
        dispatch.stop(proc, 30)
    return min(created) - t0


def loader(csv: Path) -> dict[str, float]:
    """Whole-process `dialer validate` (its children's CPU included)."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = [str(dispatch.DIALER), "validate", str(csv), "--rejects", f"{tmp}/rejects.csv"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=TREE, stdout=subprocess.DEVNULL, check=False, timeout=300)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"loader_wall_s": wall, "loader_cpu_s": cpu}


def serve() -> dict[str, float]:
    """The API's campaigns list, 101 campaigns."""
    import bench_serve

    from dialer.settings import Settings
    from dialer.store import Store
    from workers.server.app import build_app
    from workers.server.context import Server
    from workers.stack import embedded_redis

    bench_serve.BIG = 10_000
    with tempfile.TemporaryDirectory() as tmp, embedded_redis(Path(tmp)) as private:
        store = Store.from_url(private.url)
        bench_serve.fill(store)
        settings = Settings(api_key="oi_sk_bench", redis_url=private.url, state_dir=Path(tmp))
        app = build_app(Server(settings, store, bench_serve.TOKEN, Path(tmp)))
        server, url = bench_serve.serve(app)
        headers = {"Authorization": f"Bearer {bench_serve.TOKEN}"}
        with dispatch.httpx.Client(base_url=url, headers=headers) as http:
            listing: Callable[[], object] = lambda: http.get("/api/campaigns").raise_for_status()  # noqa: E731
            ms = statistics.median(bench_serve.timed(listing, 30))
        server.should_exit = True
    return {"serve_campaigns_list_ms": ms}


def main() -> None:
    """Run the case named on the command line; print its figures as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=("ceiling", "pace", "first", "loader", "serve"))
    parser.add_argument("--csv", type=Path)
    args = parser.parse_args()
    figures: dict[str, Any]
    if args.case == "loader":
        figures = loader(args.csv)
    else:
        figures = {"ceiling": ceiling, "pace": pace, "first": first, "serve": serve}[args.case]()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
