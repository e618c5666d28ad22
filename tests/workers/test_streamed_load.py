"""Dialling while the list loads, with a real redis-server, a real worker and the simulator over
HTTP: the first create arrives while the rest of the list is still being read, by the lifecycle
(a list whose later rows arrive slowly) and by `dialer run` (a large list, its load observed
under way at the first create)."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from campaigns import lifecycle
from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import Store
from tests.support import (
    DialerProcess,
    Stack,
    campaign_args,
    cli_env,
    creates_to,
    dialer_cli,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

FINAL = {"completed", "voicemail", "no_answer", "failed"}


def _config() -> CampaignConfig:
    return CampaignConfig(
        campaign_id="slow",
        agent_id=DEFAULT_AGENT_ID,
        from_number=DEFAULT_FROM_NUMBER,
        rate_per_s=20,
        max_concurrent=20,
        columns=("phone",),
        window="always",
    )


def _contacts(rows: range) -> list[Contact]:
    return [Contact(r, f"+1415555{r + 3000:04d}", {"phone": ""}) for r in rows]


def test_the_first_create_arrives_while_the_list_is_still_loading(
    stack: Stack, sim: RunningSimulator
) -> None:
    """The list's later rows arrive only once the first create has: dialling cannot have
    waited for them."""
    stack.worker()
    stack.wait_ready(1)
    store, later_rows = stack.store, threading.Event()

    def rows_arriving_slowly() -> Iterator[Sequence[Contact]]:
        yield _contacts(range(1, 6))
        assert later_rows.wait(60), "the first create never came"
        yield _contacts(range(6, 11))

    failed: list[BaseException] = []
    loading = threading.Thread(target=_submit, args=(store, rows_arriving_slowly(), failed))
    loading.start()
    try:
        wait_until(lambda: bool(creates_to(sim.url)), 60, "the first create")
        assert store.loading("slow"), "the first create came after the load ended"
        assert store.total("slow") == 5  # the later rows are not even read yet
    finally:
        later_rows.set()
        loading.join(60)
    assert not failed, failed
    wait_until(
        lambda: store.campaign_state("slow") is CampaignState.DONE,
        90,
        "the campaign to finish",
        every=0.2,
    )
    called = Counter(creates_to(sim.url))
    assert len(called) == 10 and set(called.values()) == {1}, called
    assert {c.state.value for c in store.iter_contacts("slow")} <= FINAL


def test_a_resumed_campaign_never_dials_a_waiting_row_its_list_dropped(
    stack: Stack, sim: RunningSimulator
) -> None:
    """Six contacts wait (stored, not started); the list, run again, has lost row 4: the
    worker dials what the new load has reached while the rest is read, never row 4."""
    store = stack.store
    lifecycle.submit(store, _config(), [_contacts(range(1, 7))])  # waiting, not started
    stack.worker()
    stack.wait_ready(1)
    reached = {c.phone_e164 for c in _contacts(range(1, 4))}

    def the_list_again() -> Iterator[Sequence[Contact]]:
        yield _contacts(range(1, 4))
        wait_until(lambda: set(creates_to(sim.url)) == reached, 60, "the rows reached so far")
        yield _contacts(range(5, 7))  # row 4 left the list

    lifecycle.submit(store, _config(), the_list_again(), start=True)
    wait_until(
        lambda: store.campaign_state("slow") is CampaignState.DONE,
        90,
        "the campaign to finish",
        every=0.2,
    )
    called = Counter(creates_to(sim.url))
    dropped = _contacts(range(4, 5))[0].phone_e164
    assert dropped not in called
    assert len(called) == 5 and set(called.values()) == {1}, called
    assert {c.phone: c.state.value for c in store.iter_contacts("slow")}[dropped] == "canceled"


def _submit(
    store: Store, batches: Iterator[Sequence[Contact]], failed: list[BaseException]
) -> None:
    try:
        lifecycle.submit(store, _config(), batches, start=True)
    except BaseException as exc:  # shown by the test, not lost in the thread
        failed.append(exc)


def _large_list(path: Path, rows: int) -> None:
    """`rows` distinct valid US numbers (no 555, no N11 exchange)."""
    exchanges = [x for x in range(201, 1000) if x % 100 != 11 and x != 555]
    numbers = itertools.product((212, 415, 646, 718, 917, 310, 312, 202, 617, 305), exchanges)
    lines = (
        f"+1{npa}{nxx}{line:04d},p{i}"
        for i, ((npa, nxx), line) in enumerate(
            itertools.islice(itertools.product(numbers, range(100)), rows)
        )
    )
    path.write_text("phone,name\n" + "\n".join(lines) + "\n", encoding="utf-8")


def test_dialer_run_dials_a_large_list_before_it_has_read_it_all(
    stack: Stack, sim: RunningSimulator, tmp_path: Path
) -> None:
    """The door: `dialer run --detach` of 100,000 rows; at the first create its load is still
    under way and only part of the list is stored."""
    _large_list(tmp_path / "big.csv", 100_000)
    stack.worker()
    stack.wait_ready(1)
    env = cli_env(sim, tmp_path, DIALER_REDIS_URL=stack.env["DIALER_REDIS_URL"])
    args = campaign_args("run", "big.csv", "--campaign", "big", "--rate", "2/s", "--detach")
    run = DialerProcess(args, env, tmp_path)
    try:
        wait_until(lambda: bool(creates_to(sim.url)), 120, "the first create", every=0.02)
        assert stack.store.loading("big"), "the first create came after the load ended"
        assert stack.store.total("big") < 100_000
        assert run.wait(120) == 0, run.stdout + run.stderr
        assert stack.store.total("big") == 100_000
    finally:
        run.process.kill()
        dialer_cli(["cancel", "big"], env, cwd=tmp_path)
