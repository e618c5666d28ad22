"""A worker bootstep that runs the tick in a background thread of every worker.

All workers try; the one holding the tick lease in Redis ticks, so there is exactly one tick
stream while at least one worker is alive, and no separate beat process is needed to dial.
"""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path
from typing import Any

from celery import Celery, bootsteps

from campaigns import watch
from dialer.settings import load_settings
from dialer.tick import tick
from workers.queues import DIAL_QUEUE, DIAL_TASK, FOLLOW_QUEUE, FOLLOW_TASK
from workers.resources import dispatcher

log = logging.getLogger("dialer.tick")
TICK_EVERY_S = 0.2
LEASE_MS = 2000


def export_finished(cid: str) -> None:
    """A campaign that names a results file (scheduled jobs) gets it written when it ends."""
    store = dispatcher().store
    path = store.campaign(cid).results_path
    if path:
        watch.export(store, cid, Path(path))
        log.info("results written", extra={"campaign": cid, "path": path})


class Ticker:
    """The loop: take the lease, tick, sleep; until stopped. Work is sent through `app`."""

    def __init__(self, app: Celery) -> None:
        self.app = app
        self.owner = uuid.uuid4().hex
        self.only = load_settings().serve_only
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, name="dialer-tick", daemon=True)

    def run(self) -> None:
        """Tick while holding the lease, every TICK_EVERY_S, until stopped."""
        app = self.app
        while not self.stopped.wait(TICK_EVERY_S):
            try:
                d = dispatcher()
                if not d.store.try_tick_lease(self.owner, LEASE_MS):
                    continue
                # One producer for the whole tick, and its messages sent as one pipelined
                # LPUSH when the tick ends (kombu's publish batch), not a round trip each. If
                # that fails, the rows the tick took are handed out again after requeue_s.
                with app.producer_or_acquire() as producer, producer.batch():

                    def dial(cid: str, rows: list[int]) -> None:
                        app.send_task(DIAL_TASK, (cid, rows), queue=DIAL_QUEUE, producer=producer)

                    def follow(cid: str, rows: list[int]) -> None:
                        app.send_task(
                            FOLLOW_TASK, (cid, rows), queue=FOLLOW_QUEUE, producer=producer
                        )

                    tick(d.store, dial, follow, d.timing, finished=export_finished, only=self.only)
            except Exception:  # the tick must outlive a Redis restart or a bad campaign
                log.exception("tick failed; trying again")


class TickStep(bootsteps.StartStopStep):  # type: ignore[misc]
    """Starts the ticker with the worker and stops it on shutdown."""

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.ticker: Ticker | None = None

    def start(self, parent: Any) -> None:
        self.ticker = Ticker(parent.app)
        self.ticker.thread.start()

    def stop(self, parent: Any) -> None:
        if self.ticker is not None:
            self.ticker.stopped.set()
