"""Where the ceiling's Redis commands per contact go: the ceiling's dispatch (1 worker, N
contacts, no pace) watched through MONITOR, each command charged to the script that ran it (by
its SHA) or, outside scripts, to its command name and the kind of key it names.

    .venv/bin/python bench/bench_dispatch_breakdown.py [N [MONITOR-FILE]]

Counts are per contact and include the commands scripts run, as INFO commandstats counts them
(the figure of bench/bench_dispatch.py's ceiling and `./dev bench`). The bench's own polls of
the campaign's state are left out. MONITOR slows Redis, not what it is asked.
"""

from __future__ import annotations

import collections
import re
import sys
import tempfile
import threading
from pathlib import Path

import bench_dispatch as bd

from dialer.store import Store
from dialer.store.core import _script
from dialer.store.guards import _source as guards_source
from dialer.store.outbox import _RECORD, _TAKE

LINE = re.compile(r'^\S+ \[\d+ (?P<client>[^\]]+)\] "(?P<cmd>[^"]*)"(?P<rest>.*)$')
SCRIPTS = ("claim", "transition", "pump", "send", "add")


def script_names(store: Store) -> dict[str, str]:
    """SHA1 of each script the dialer registers -> its name."""
    sources = {name: _script(name) for name in SCRIPTS}
    sources |= {"guards": guards_source(), "outbox.record": _RECORD, "outbox.take": _TAKE}
    return {store.redis.register_script(src).sha: name for name, src in sources.items()}


def key_kind(rest: str) -> str:
    """A short name for the first key a command names: `dialer:camp:C:counts` -> `counts`."""
    first = rest.strip().split(" ", 1)[0].strip('"') if rest.strip() else ""
    if first.startswith("dialer:camp:"):
        parts = first.split(":")
        return parts[3] if len(parts) > 3 and not parts[3].isdigit() else "contact"
    if first.startswith("dialer:"):
        return first.split(":")[1]
    return "celery" if first else ""


def charge(lines: list[str], shas: dict[str, str]) -> collections.Counter[str]:
    """Commands by where they come from: `script name` (its EVALSHA and what it ran) or
    `command key-kind` for a plain command."""
    out: collections.Counter[str] = collections.Counter()
    current = ""
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        cmd = m["cmd"].lower()
        if m["client"] == "lua":
            out[f"script {current}"] += 1
            continue
        if cmd in ("evalsha", "eval"):
            sha = m["rest"].strip().split(" ", 1)[0].strip('"')
            current = shas.get(sha, sha[:8])
            out[f"script {current}"] += 1
            continue
        current = ""
        out[f"{cmd} {key_kind(m['rest'])}"] += 1
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rs, sim = bd.RedisProc(), bd.SimProc()
    lines: list[str] = []
    try:
        shas = script_names(Store.from_url(rs.url))
        stop = threading.Event()
        original = bd.run_campaign

        def watched(store: Store, cid: str, timeout: float) -> float:
            conn = bd.redis.Redis.from_url(rs.url, decode_responses=True)
            raw = conn.connection_pool.get_connection("MONITOR")
            raw.send_command("MONITOR")
            raw.read_response()

            def read() -> None:
                while not stop.is_set():
                    if raw.can_read(timeout=0.05):
                        lines.append(str(raw.read_response()))

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            try:
                return original(store, cid, timeout)
            finally:
                stop.set()
                reader.join()
                raw.disconnect()

        bd.run_campaign = watched
        m = bd.dispatch_case(rs, sim, 1, n, Path(tempfile.mkdtemp(prefix="breakdown-")), "bd")
    finally:
        sim.stop()
        rs.stop()
    if len(sys.argv) > 2:  # the raw MONITOR lines, to read
        Path(sys.argv[2]).write_text("\n".join(lines))
    counts = charge(lines, shas)
    counts["hget camp"] -= bd.BENCH_POLLS[0]  # the bench's own polls of the campaign's state
    print(f"{n} contacts; INFO commandstats: {m['redis_calls_per']:.1f} commands per contact")
    print(f"MONITOR: {sum(counts.values()) / n:.1f} per contact")
    for name, count in counts.most_common():
        if count / n >= 0.05:
            print(f"  {count / n:6.2f}  {name}")


if __name__ == "__main__":
    main()
