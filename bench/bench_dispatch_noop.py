"""Baseline app for bench/bench_dispatch.py: a no-op task on the dialer's own Celery config.

`make_app()` gives the same settings as the real worker (acks_late, prefetch 1, results ignored,
the tick bootstep); only `bench.noop` is added. Started as
`celery -A bench_dispatch_noop worker ...` with `bench/` on PYTHONPATH.
"""

from __future__ import annotations

from workers.celery_app import make_app

app = make_app()


@app.task(name="bench.noop", ignore_result=True)  # type: ignore[untyped-decorator]
def noop() -> None:
    """Do nothing."""
