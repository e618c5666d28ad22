"""Benchmark: load and validate 1,000,000 contacts beside a plain `pandas.read_csv(dtype=str)`.

    .venv/bin/python bench/bench_contacts.py [--rows 1000000] [--runs 3]

Generates `bench/out/contacts_<rows>.csv` (seed 42; the shape of perf-baseline section 1: half
the phones `(415) 555-0123`, half E.164, 1% not valid, 10% with a quoted comma), then runs each
method in its own subprocess (for a clean peak RSS) `--runs` times, alternating, and prints the
medians. `loader` is what `dialer validate` does; `loader-csv` the csv.reader path it keeps for
the files pyarrow's reader does not take (`campaigns.arrow_csv`). The loader's child also
cross-checks every 1000th row against the full `phonenumbers` path after its timer stops
(special number types, refused by default, count as rejected).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"
METHODS = ("pandas", "loader", "loader-csv", "loader-1proc", "loader-contacts")
INVALID = ["+1 999 555 1234", "555-0123", "n/a", "4.15555E+10", "", "+1 311 555 0000", "12345"]
FIRST = ["Ana", "Bo", "Chloé", "Dev", "Eun-ji", "Farah", "Gus", "Hana", "Ivo", "Jon"]
LAST = ["Smith", "Nguyen", "García", "O'Brien", "Kowalski", "Okafor", "Rossi", "Tanaka"]


def generate(path: Path, rows: int) -> None:
    """Write the benchmark CSV (deterministic for a given row count)."""
    sys.path.insert(0, str(Path(__file__).parent.parent))
    from dialer.phone import _NANP

    rnd = random.Random(42)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("phone,first_name,last_name,company,order_id,notes\n")
        for i in range(rows):
            company = f'"{rnd.choice(LAST)}, Inc"' if rnd.random() < 0.1 else rnd.choice(LAST)
            note = "".join(rnd.choices("abcdefghij klmnop", k=40))
            out.write(f"{_phone(rnd, i, _NANP.is_valid)},{rnd.choice(FIRST)},{rnd.choice(LAST)},")
            out.write(f"{company},ORD-{i:08d},{note}\n")


def _phone(rnd: random.Random, i: int, valid: object) -> str:
    if rnd.random() < 0.01:
        return rnd.choice(INVALID)
    while True:
        area, exchange = f"{rnd.randint(2, 9)}{rnd.randint(0, 99):02d}", rnd.randint(2, 9)
        n = f"{area}{exchange}{rnd.randint(0, 999999):06d}"
        if valid(n):  # type: ignore[operator]
            break
    return f"({n[:3]}) {n[3:6]}-{n[6:]}" if i % 2 else f"+1{n}"


def child_pandas(path: Path) -> dict[str, float]:
    import pandas as pd

    start, cpu = time.perf_counter(), _cpu_s()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    elapsed, cpu = time.perf_counter() - start, _cpu_s() - cpu
    return {"load_s": elapsed, "rows": len(frame), "peak_mb": _peak_mb(), "cpu_s": cpu}


def child_loader(path: Path, method: str) -> dict[str, float]:
    """`loader`: as `dialer validate` reads (pyarrow's reader for this file); `loader-csv`:
    csv.reader's path, which files pyarrow does not take follow; `loader-1proc`: that path
    without the numbers process; `loader-contacts`: `loader`, then a `Contact` for every row."""
    sys.path.insert(0, str(Path(__file__).parent.parent))
    from campaigns.contacts import LoadOptions, open_contacts

    sample: list[tuple[str, str | None]] = []
    counts = {"contacts": 0, "rejects": 0}
    start, cpu = time.perf_counter(), _cpu_s()
    with path.open("rb") as source:
        parallel = method != "loader-1proc"
        columnar = method in ("loader", "loader-contacts")
        opened = open_contacts(
            source, name=path.name, options=LoadOptions(), parallel=parallel, columnar=columnar
        )
        for contacts, rejects in opened.batches():
            counts["contacts"] += len(contacts)
            counts["rejects"] += len(rejects)
            if method == "loader-contacts":
                built = list(contacts)
                sample += [
                    (c.row["phone"], c.phone_e164) for c in built if c.source_row % 1000 == 0
                ]
            else:
                sample += [
                    (cells[0], e164)
                    for row, e164, cells in zip(
                        contacts.source_rows, contacts.phones, contacts.cells, strict=True
                    )
                    if row % 1000 == 0
                ]
            sample += [(r.phone, None) for r in rejects if r.source_row % 1000 == 0]
    elapsed, cpu = time.perf_counter() - start, _cpu_s() - cpu
    peak = _peak_mb() + _peak_mb(resource.RUSAGE_CHILDREN)  # with the numbers process
    differs = sum(_full(raw) != got for raw, got in sample)
    rows = counts["contacts"] + counts["rejects"]
    return {"load_s": elapsed, "rows": rows, "peak_mb": peak, "cpu_s": cpu,
            "checked": len(sample), "differs": differs, **counts}  # fmt: skip


def _cpu_s() -> float:
    """CPU seconds of this process and of its children that have ended."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _full(raw: str) -> str | None:
    import phonenumbers

    try:
        number = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) in _SPECIAL:  # refused by default (`--allow-types`)
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


_SPECIAL = {4, 5, 8, 9, 10}  # PhoneNumberType: premium rate, shared cost, pager, UAN, voicemail


def _peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def run_child(method: str, path: Path) -> dict[str, float]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", method, str(path)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout)
    result["process_s"] = time.perf_counter() - start
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"))
    args = parser.parse_args()
    if args.child:
        method, path = args.child
        found = child_pandas(Path(path)) if method == "pandas" else child_loader(Path(path), method)
        print(json.dumps(found))
        return
    OUT.mkdir(exist_ok=True)
    path = OUT / f"contacts_{args.rows}.csv"
    if not path.exists():
        generate(path, args.rows)
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in METHODS}
    for _ in range(args.runs):
        for method in runs:
            runs[method].append(run_child(method, path))
    report(path, runs)


def report(path: Path, runs: dict[str, list[dict[str, float]]]) -> None:
    def med(method: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[method])

    def span(method: str, key: str) -> str:
        values = [r[key] for r in runs[method]]
        return f"{med(method, key):.2f} [{min(values):.2f}–{max(values):.2f}]"

    size_mb = path.stat().st_size / 1e6
    print(f"file: {path.name}, {size_mb:.1f} MB; python {platform.python_version()}; "
          f"{platform.machine()}, {_cpus()}")  # fmt: skip
    pandas = med("pandas", "load_s")
    print("| method | load s median [min–max] | × pandas | rows/s | CPU s | whole process s "
          "| peak RSS MB |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for method in runs:
        rows, load = runs[method][0]["rows"], med(method, "load_s")
        print(f"| {method} | {span(method, 'load_s')} | {load / pandas:.2f} | {rows / load:,.0f} "
              f"| {med(method, 'cpu_s'):.2f} | {med(method, 'process_s'):.2f} "
              f"| {med(method, 'peak_mb'):.0f} |")  # fmt: skip
    for method in runs:
        if method != "pandas":
            last = runs[method][-1]
            print(f"{method}: contacts {last['contacts']:,.0f}, rejects {last['rejects']:,.0f}; "
                  f"cross-checked {last['checked']:,.0f} sampled rows against phonenumbers.parse: "
                  f"{last['differs']:.0f} differ")  # fmt: skip


def _cpus() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} x {len(_online())}"
    except OSError:
        pass
    return platform.processor()


def _online() -> list[int]:
    import os

    return sorted(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
