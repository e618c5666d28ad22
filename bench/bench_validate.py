"""Whole-process `dialer validate` beside a whole-process `pandas.read_csv` of the same file.

    .venv/bin/python bench/bench_validate.py [--rows 1000000] [--pairs 5] [--base-dialer PATH]
                                             [--other-pandas PYTHON]

Each pair runs `python -c "pandas.read_csv(path, dtype=str, keep_default_na=False)"` and
`dialer validate path` (and, given, a base tree's `dialer`), alternating which goes first, each
in its own process: wall time, CPU and peak memory of the process and its children (wait4).
The median of the per-pair ratios is issue 22's loader figure (target <= 1.5). The file is
bench_contacts.py's (generated once, seed 42). Bytecode is cached in a temporary folder that a
first, unmeasured run fills: an installed dialer runs from compiled modules (this machine's
environment sets PYTHONDONTWRITEBYTECODE, which would compile every module at every start).
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_contacts import generate  # noqa: E402


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall s, CPU s and peak RSS MiB of one run of `argv` and its children."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):  # validate exits 1 when the file has rejects
        raise SystemExit(f"{argv[0]} exited {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--base-dialer", help="another tree's dialer script, measured beside")
    parser.add_argument(
        "--other-pandas", help="another venv's python (say, one without pyarrow), measured beside"
    )
    args = parser.parse_args()
    path = HERE / "out" / f"contacts_{args.rows}.csv"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        generate(path, args.rows)
    out = Path(tempfile.mkdtemp(prefix="bench-validate-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(out / "pyc")
    python = str(ROOT / ".venv" / "bin" / "python")
    read = f"import pandas; pandas.read_csv({str(path)!r}, dtype=str, keep_default_na=False)"
    methods = {
        "pandas": [python, "-c", read],
        "dialer validate": [
            str(ROOT / ".venv/bin/dialer"),
            "validate",
            str(path),
            "--rejects",
            str(out / "rejects.csv"),
        ],
    }
    if args.base_dialer:
        methods["base: dialer validate"] = [args.base_dialer, "validate", str(path),
                                            "--rejects", str(out / "rejects-base.csv")]  # fmt: skip
    if args.other_pandas:
        methods["pandas, other venv"] = [args.other_pandas, "-c", read]
    for argv in methods.values():  # fill the bytecode caches; not measured
        measure(argv, env)
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in methods}
    for pair in range(args.pairs):
        order = list(methods) if pair % 2 == 0 else list(reversed(methods))
        for name in order:
            runs[name].append(measure(methods[name], env))
            wall, cpu, rss = runs[name][-1]
            print(f"pair {pair + 1}: {name}: {wall:.2f} s wall, {cpu:.2f} s CPU, {rss:.0f} MiB")
    print(f"\n{args.rows:,} rows, {args.pairs} pairs; median [min-max]")
    print("| method | wall s | CPU s | peak MiB | wall / pandas (per pair, median) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, got in runs.items():
        walls, cpus, rss = zip(*got, strict=True)
        ratios = [w / p[0] for w, p in zip(walls, runs["pandas"], strict=True)]
        print(
            f"| {name} | {statistics.median(walls):.2f} [{min(walls):.2f}-{max(walls):.2f}] "
            f"| {statistics.median(cpus):.2f} | {max(rss):.0f} | {statistics.median(ratios):.2f} |"
        )


if __name__ == "__main__":
    main()
