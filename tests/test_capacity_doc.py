"""docs/capacity.md is written from measurements: every section with figures cites the benchmark
command that produced them, and every benchmark it cites exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "capacity.md"


def _sections() -> dict[str, str]:
    parts = re.split(r"^## ", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {part.split("\n", 1)[0]: part for part in parts[1:]}


def test_every_table_cites_its_benchmark_command() -> None:
    for title, text in _sections().items():
        if "\n| " in text:
            assert "bench/bench_" in text, f"section {title!r} has figures but no command"


def test_every_cited_benchmark_exists() -> None:
    cited = set(re.findall(r"bench/(bench_\w+\.py)", DOC.read_text(encoding="utf-8")))
    assert cited, "no benchmark cited"
    for name in cited:
        assert (ROOT / "bench" / name).is_file(), f"docs/capacity.md cites bench/{name}"


def test_the_worked_example_and_the_cluster_point_are_there() -> None:
    sections = _sections()
    assert any(title.startswith("Worked example: 1 million contacts a day") for title in sections)
    cluster = next(text for title, text in sections.items() if "Redis Cluster" in title)
    assert "{ACCOUNT}" in cluster and "celery#2852" in cluster
