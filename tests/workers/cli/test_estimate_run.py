"""Issue 23's acceptance of the estimate, on one real run: `dialer run --max-concurrent 2` with
its embedded Redis and worker, and the simulator over HTTP. Every call is a voicemail of
7-33 simulated seconds, run 4x faster than life (about 5 s), so two calls at once let through
about 0.4 creates/s: the concurrency binds, not the pace of 5/s.

The estimate compared is the first one made from the run's own calls: before any call has
ended the call length is unknown, and the ETA says it assumes 90 s. It must name the
concurrency, and the last create must land within 2x of the end it gave. This asserts the
estimate's truth against the same run, not the speed of this machine.
"""

from __future__ import annotations

import contextlib
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest

from campaigns.estimate import Finish
from campaigns.progress import progress
from dialer.errors import NoSuchCampaign
from dialer.simulator.config import SimulatorConfig
from dialer.simulator.server import start_in_thread
from dialer.store import Store
from tests.support import DialerProcess, campaign_args, cli_env, creates_to, sim_get, wait_until
from workers.processes import running_url

pytestmark = pytest.mark.integration

CONTACTS = 12
CID = "eta"


def _first_measured(store: Store) -> tuple[datetime, Finish]:
    """The first ETA made from calls that ended, and when it was made."""
    found: list[tuple[datetime, Finish]] = []

    def made() -> bool:
        at = datetime.now(UTC)
        with contextlib.suppress(NoSuchCampaign):  # not submitted yet
            finish = progress(store, CID, at).finish
            if finish is not None and finish.seconds is not None and "(assumed)" not in finish.text:
                found.append((at, finish))
        return bool(found)

    wait_until(made, 120, "an estimate made from the run's own calls", every=0.2)
    return found[0]


@pytest.mark.timeout(300)
def test_a_concurrency_bound_run_ends_within_twice_its_first_estimate(tmp: Path) -> None:
    numbers = [f"+1415555{2000 + i}" for i in range(CONTACTS)]
    (tmp / "contacts.csv").write_text("phone\n" + "\n".join(numbers) + "\n", encoding="utf-8")
    config = SimulatorConfig(speed=4.0, seed=5, default_script=["voicemail"])
    with start_in_thread(config) as sim:
        args = campaign_args(
            "run", "contacts.csv", "--campaign", CID, "--rate", "5/s", "--max-concurrent", "2"
        )
        run = DialerProcess(args, cli_env(sim, tmp), tmp)
        try:
            run.wait_for_stack(tmp / "state")
            url = running_url(tmp / "state")
            assert url is not None
            at, first = _first_measured(Store.from_url(url))
            assert run.wait(240) == 0, run.stdout + run.stderr
        finally:
            if run.process.poll() is None:
                run.signal_group(signal.SIGINT)
                run.wait(60)
        sent = [float(c["t"]) for c in sim_get(sim.url, "creates")]  # type: ignore[union-attr]
        assert sorted(creates_to(sim.url)) == sorted(numbers)  # everyone, once
    assert first.limited_by.startswith("2 calls at once, calls last ~"), first.text
    took = max(sent) - at.timestamp()
    assert first.seconds is not None
    assert took / 2 <= first.seconds <= took * 2, (
        f"estimated {first.seconds:.0f} s ({first.text}); dialling took {took:.0f} s more"
    )
