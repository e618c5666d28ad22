"""`./dev bench [--base REF]`: every benchmark's short form, on this tree and on a base, in turn.

    ./dev bench                  # against the merge base with main
    ./dev bench --base HEAD~3    # against any commit
    ./dev bench --rounds 5 --cases ceiling,pace

The base is checked out in a temporary worktree (with its own virtualenv only when its locked
dependencies differ from this tree's; otherwise this one's, the base's code first on the path).
Each case (bench/gate_case.py: ceiling, pace, first call by size, loader, serve) runs as its own
process on one tree then the other, alternating which goes first, `--rounds` times. Each figure
is printed with both medians, their runs' spread and the ratio; the gate fails (exit 1) when a
figure of this tree is more than 15% worse than the base's AND worse than the base's worst run
(the spread says the machine was noisy; one noisy run must not fail it). Run it by hand before
landing a change to a hot path (about 6 minutes on a quiet 2-core machine); it is not part of
CI. Quote the load average it prints beside any figure you take from it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CASES = ("ceiling", "pace", "first", "loader", "serve")
HIGHER_IS_BETTER = {"ceiling_per_s", "pace_100_mean_pct"}
WORSE_BY = 0.15
LOADER_ROWS = 200_000
Runs = dict[str, list[float]]


def git(*args: str, cwd: Path = ROOT) -> str:
    """A git command's output, stripped."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def base_python(tree: Path) -> Path:
    """This virtualenv's Python when the base locks the same dependencies, else a new one."""
    same = all(
        (tree / name).read_bytes() == (ROOT / name).read_bytes()
        for name in ("requirements-dev.lock", "pyproject.toml")
        if (tree / name).exists()
    )
    if same:
        return Path(sys.executable)
    print("the base locks other dependencies: ./dev setup in its worktree", flush=True)
    subprocess.run(["./dev", "setup"], cwd=tree, check=True)
    return tree / ".venv" / "bin" / "python"


def run_case(case: str, tree: Path, python: Path, csv: Path) -> dict[str, float]:
    """One case on one tree, in its own process; its figures."""
    env = {**os.environ, "DIALER_BENCH_TREE": str(tree), "PYTHONPATH": str(tree)}
    argv = [str(python), str(HERE / "gate_case.py"), case, "--csv", str(csv)]
    done = subprocess.run(
        argv, cwd=tree, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{case} failed on {tree}:\n{done.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def verdict(name: str, head: list[float], base: list[float]) -> tuple[float, bool]:
    """The ratio head/base of the medians, and whether head is worse beyond the gate."""
    ratio = statistics.median(head) / statistics.median(base)
    if name in HIGHER_IS_BETTER:
        worse = ratio < 1 - WORSE_BY and statistics.median(head) < min(base)
    else:
        worse = ratio > 1 + WORSE_BY and statistics.median(head) > max(base)
    return ratio, worse


def report(head: Runs, base: Runs) -> bool:
    """Print the table; True when every figure passes."""
    passed = True
    print("\n| figure | this tree: median [min–max] | base: median [min–max] | ratio | gate |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name in head:
        ratio, worse = verdict(name, head[name], base[name])
        passed &= not worse
        print(
            f"| {name} | {_spread(head[name])} | {_spread(base[name])} | {ratio:.2f} "
            f"| {'WORSE' if worse else 'ok'} |"
        )
    return passed


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.3g} [{min(values):,.3g}–{max(values):,.3g}]"


def measure(
    cases: list[str], rounds: int, trees: dict[str, tuple[Path, Path]], csv: Path
) -> dict[str, Runs]:
    """Every case on both trees, alternating which goes first, `rounds` times."""
    runs: dict[str, Runs] = {label: {} for label in trees}
    order = list(trees)
    for round_ in range(rounds):
        for case in cases:
            for label in order if round_ % 2 == 0 else order[::-1]:
                tree, python = trees[label]
                started = time.monotonic()
                for name, value in run_case(case, tree, python, csv).items():
                    runs[label].setdefault(name, []).append(value)
                took = time.monotonic() - started
                print(f"  round {round_ + 1} {case:8} {label:4} {took:5.1f} s", flush=True)
    return runs


def loader_csv(folder: Path) -> Path:
    """The loader's list: bench/bench_contacts.py's file, LOADER_ROWS rows."""
    sys.path.insert(0, str(HERE))
    import bench_contacts

    path = folder / f"contacts_{LOADER_ROWS}.csv"
    bench_contacts.generate(path, LOADER_ROWS)
    return path


def main() -> None:
    """Check out the base, measure both trees, print the table, exit 1 when a figure is worse."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="commit to compare with (default: merge base with main)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES), help="comma separated")
    args = parser.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    unknown = set(cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s) {sorted(unknown)}; choose from {', '.join(CASES)}")
    base = git("rev-parse", args.base or git("merge-base", "HEAD", "main"))
    head = git("rev-parse", "HEAD") + (" (with uncommitted changes)" if git("status", "-s") else "")
    folder = Path(tempfile.mkdtemp(prefix="dialer-bench-"))
    tree = folder / "base"
    git("worktree", "add", "--detach", str(tree), base)
    try:
        print(f"this tree {head}\nbase      {base}\nload average {os.getloadavg()}", flush=True)
        trees = {"this": (ROOT, Path(sys.executable)), "base": (tree, base_python(tree))}
        runs = measure(cases, args.rounds, trees, loader_csv(folder))
    finally:
        git("worktree", "remove", "--force", str(tree))
        shutil.rmtree(folder, ignore_errors=True)
    print(f"load average at the end {os.getloadavg()}")
    passed = report(runs["this"], runs["base"])
    print("\nbench: " + ("every figure within 15% of the base" if passed else "FAILED: see WORSE"))
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
