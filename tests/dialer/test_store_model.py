"""A model that proves a contact is its number (issue 21): a Hypothesis state machine drives the
real store on a real redis-server, and the real call logic (`dialer.calls`, `dialer.following`)
against the simulator over real HTTP, without Celery. It loads edited lists (rows inserted,
deleted, re-sorted, duplicated, renamed, saved with CRLF), claims and creates, ends calls with any
status, kills work in flight, reconciles, pauses, resumes and cancels, runs a retry of the
campaign's results, lets a second campaign of the account call the same numbers, and passes the
deadline; after every step it checks the store against a plain reference model.

A few hundred examples run in CI (`DIALER_MODEL_EXAMPLES`, default 200); a deeper run:
`DIALER_MODEL_EXAMPLES=3000 DIALER_MODEL_STEPS=80 .venv/bin/pytest -q -p no:timeout
tests/dialer/test_store_model.py` (`DIALER_MODEL_SHRINK=0` reports the first failure found
without shrinking it: quicker when checking that a break is caught).
"""

from __future__ import annotations

import io
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from campaigns import lifecycle, watch
from campaigns.contacts import load_contacts
from campaigns.when import CallingPolicy
from dialer.account import NumberRules
from dialer.calls import Dispatcher, build_request, place
from dialer.campaign import CampaignConfig, CampaignState
from dialer.client import OneInboxClient
from dialer.errors import InputError
from dialer.following import _attempt_ended, follow_up
from dialer.http import make_http_client
from dialer.models import Call, CallRequest
from dialer.pace import pace_for
from dialer.policy import Timing
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import FINAL_STATES, LIVE_STATES, ContactRecord, ContactState, Store
from dialer.store.keys import ledger_key, numbers_key, queued_key, ready_key, watch_key
from dialer.testcall import place_test_call

PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink, Phase.explain)
EXAMPLES = int(os.environ.get("DIALER_MODEL_EXAMPLES", "200"))
STEPS = int(os.environ.get("DIALER_MODEL_STEPS", "30"))
NUMBERS = [f"+1415555{n:04d}" for n in range(300, 312)]  # the numbers lists are made of
HEADER = "phone,name"
TIMING = Timing(
    lease_s=30,
    stuck_s=0.0,
    requeue_s=0.0,
    follow_lease_s=5,
    reconcile_grace_s=0.0,
    reconcile_limit_s=3,
    post_call_wait_s=0.0,
    poll_scale=0.05,
)
CLOCKS_MS = 50  # how far Redis's clock and this process's may disagree
DEADLINE_S = 3600.0  # the campaigns' deadline, from the start of an example
GAP_S = 7200.0  # longer than the deadline: a contact the gap holds must end `expired` at it
ENDINGS = [
    ContactState.COMPLETED,
    ContactState.NO_ANSWER,
    ContactState.FAILED,
    ContactState.VOICEMAIL,
]
UNSURE = (ContactState.DIALING, ContactState.RECONCILING)  # creates whose fate is looked up
EDITS = ["insert", "delete", "resort", "duplicate", "rename", "crlf"]


def _config(cid: str, deadline: datetime, **kw: Any) -> CampaignConfig:
    return CampaignConfig(
        campaign_id=cid,
        agent_id=DEFAULT_AGENT_ID,
        from_number=DEFAULT_FROM_NUMBER,
        columns=("phone", "name"),
        variable_columns=("name",),
        rate_per_s=1e6,  # the pace never holds a contact: a stranded one is a bug
        max_concurrent=50,
        window="always",
        max_attempts=2,
        retry_on="no_answer,failed",
        retry_delays="1m",
        min_gap_s=GAP_S,
        deadline=deadline.isoformat(),
        **kw,
    )


class ListModel(RuleBasedStateMachine):
    """The store and the call logic against a plain model of the latest list."""

    redis_url = ""
    sim_url = ""
    tmp = Path()
    http: httpx.Client  # one for every example (opening one costs more than a step)

    def __init__(self) -> None:
        super().__init__()
        client = redis.Redis.from_url(self.redis_url, decode_responses=True)
        client.flushall()
        self.http.post(f"{self.sim_url}/_sim/reset").raise_for_status()
        self.offset = timedelta(0)
        self.d = Dispatcher(
            Store(client),
            OneInboxClient(self.http),
            TIMING,
            when=CallingPolicy(),
            sleep=lambda _: None,
            now=lambda: datetime.now(UTC) + self.offset,
        )
        self.store = self.d.store
        self.deadline = datetime.now(UTC) + timedelta(seconds=DEADLINE_S)
        self.results = self.tmp / "leads.results.csv"
        self.rows: list[tuple[str, str]] = []  # the latest file: (number, name) per row
        self.version = 0
        self.expected: dict[tuple[str, str], str] = {}  # (campaign, number) -> its latest name
        self.seen = 0  # creates of the simulator already checked
        self.created: set[tuple[str, str, int]] = set()  # (campaign, number, attempt) created
        self.campaigns = ["main"]
        self.passed = False  # the deadline passed
        self.dnc: set[str] = set()  # numbers put on the account's do-not-call list
        self.called: set[str] = set()  # numbers a campaign's create went to
        self.store.create_campaign(_config("main", self.deadline, results_path=str(self.results)))

    def teardown(self) -> None:
        self.store.redis.close()

    # -- the model's view ------------------------------------------------------------------

    def latest(self) -> dict[str, int]:
        """Each number of the latest file and its row as a spreadsheet shows it (the header is
        row 1): the first row holding it."""
        first: dict[str, int] = {}
        for row, (number, _) in enumerate(self.rows, start=2):
            first.setdefault(number, row)
        return first

    def record(self, cid: str, number: str) -> ContactRecord | None:
        member = self.store.redis.hget(numbers_key(cid), number)
        return self.store.contact(cid, int(member)) if member else None

    # -- rules -----------------------------------------------------------------------------

    @initialize(numbers=st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=8))
    def a_first_list_is_run(self, numbers: list[str]) -> None:
        self._load([(n, f"{n}-v0") for n in numbers], "\n")
        lifecycle.start(self.store, "main")

    @rule(edit=st.sampled_from(EDITS), data=st.data())
    def load_an_edited_list(self, edit: str, data: st.DataObject) -> None:
        rows, pick = list(self.rows), data.draw(st.randoms(use_true_random=False))
        self.version += 1
        if edit == "insert" or not rows:
            number = data.draw(st.sampled_from(NUMBERS))
            rows.insert(pick.randint(0, len(rows)), (number, f"{number}-v{self.version}"))
        elif edit == "delete":
            rows.pop(pick.randrange(len(rows)))
        elif edit == "resort":
            pick.shuffle(rows)
        elif edit == "duplicate":
            rows.insert(pick.randint(0, len(rows)), (pick.choice(rows)[0], "duplicate"))
        elif edit == "rename":
            at = pick.randrange(len(rows))
            rows[at] = (rows[at][0], f"{rows[at][0]}-v{self.version}")
        self._load(rows, "\r\n" if edit == "crlf" else "\n")

    def _load(self, rows: list[tuple[str, str]], newline: str) -> None:
        text = newline.join([HEADER, *(f"{n},{name}" for n, name in rows)]) + newline
        loaded = load_contacts(io.BytesIO(text.encode()), name="leads.csv")
        first = {n: name for n, name in reversed(rows)}
        for number, name in first.items():  # a contact not dialled yet takes the list's details
            before = self.record("main", number)
            if before is None or before.state is ContactState.PENDING:
                self.expected[("main", number)] = name
        config = self.store.campaign("main")
        lifecycle.submit(self.store, config, [loaded.contacts], named=True)
        self.rows = rows
        kept = {n for n, _ in rows}
        assert {r.phone for r in loaded.rejects} <= kept  # only later duplicates are refused
        assert len(loaded.contacts) == len(set(kept))

    @rule()
    def start(self) -> None:
        for cid in self.campaigns:
            lifecycle.start(self.store, cid)

    @rule()
    def pause(self) -> None:
        if self.store.campaign_state("main") is CampaignState.RUNNING:
            self.store.set_campaign_state("main", CampaignState.PAUSED)

    @precondition(lambda self: self.version > 4)
    @rule()
    def cancel(self) -> None:
        lifecycle.cancel(self.store, "main")

    @rule(count=st.integers(1, 4))
    def dial(self, count: int) -> None:
        """Workers take the contacts due and place them (claim, create, record)."""
        now_ms = (datetime.now(UTC) + self.offset).timestamp() * 1000
        for cid in self.campaigns:
            for member in self.store.pending_rows(cid)[:count]:
                due = self.store.redis.zscore(ready_key(cid), str(member))
                if due is None or due <= now_ms:
                    place(self.d, cid, member)
                    self._left_or_said_why(cid, member, now_ms)

    def _left_or_said_why(self, cid: str, member: int, now_ms: float) -> None:
        """A due contact a worker placed in a running campaign was claimed, or waits again
        for a reason the claim gave: it is not left due and untouched (stranded)."""
        if self.store.campaign_state(cid) is not CampaignState.RUNNING:
            return
        after = self.store.contact(cid, member)
        due = self.store.redis.zscore(ready_key(cid), str(member))
        if after is not None and after.state is ContactState.PENDING and due is not None:
            touched = after.updated_at_ms >= now_ms - CLOCKS_MS or due > now_ms
            assert touched, f"{after.phone} was placed and is still due, untouched"

    @rule(number=st.sampled_from(NUMBERS), sent=st.booleans())
    def kill_a_worker_after_its_claim(self, number: str, sent: bool) -> None:
        """A worker claims a contact and is killed (kill -9) before it records anything: before
        its create was sent, or after."""
        contact = self.record("main", number)
        if contact is None or contact.state is not ContactState.PENDING:
            return
        config = self.store.campaign("main")
        claim = self.store.claim(
            "main",
            contact.member,
            pace=pace_for(config.rate_per_s),
            max_concurrent=config.max_concurrent,
            lease_s=TIMING.lease_s,
            stuck_s=0,
            number=contact.phone,
            rules=NumberRules(config.min_gap_s),
        )
        if claim.won and claim.contact is not None and sent:
            self.d.client.create_call(build_request(config, claim.contact, send=claim.send))

    @rule()
    def follow(self) -> None:
        """Follow-ups fall due (reconcile what a dead worker left, poll calls)."""
        for cid in self.campaigns:
            for member in map(int, self.store.redis.zrange(watch_key(cid), 0, -1)):
                contact = self.store.contact(cid, member)
                if contact is not None and contact.state in UNSURE:  # calls end by `end_a_call`
                    follow_up(self.d, cid, member)

    @rule(ending=st.sampled_from(ENDINGS), number=st.sampled_from(NUMBERS))
    def end_a_call(self, ending: ContactState, number: str) -> None:
        for cid in self.campaigns:
            contact = self.record(cid, number)
            if contact is None or contact.state is not ContactState.PLACED:
                continue
            call = Call(id=contact.call_id, status=ending.value)
            _attempt_ended(self.d, self.store.campaign(cid), contact, call, ending)

    @precondition(lambda self: "other" not in self.campaigns and self.version > 0)
    @rule()
    def another_campaign_of_the_account_calls_the_same_numbers(self) -> None:
        self.store.create_campaign(_config("other", self.deadline))
        text = "\n".join([HEADER, *(f"{n},{n}-other" for n in NUMBERS[:6])]) + "\n"
        loaded = load_contacts(io.BytesIO(text.encode()), name="other.csv")
        for number in NUMBERS[:6]:
            self.expected[("other", number)] = f"{number}-other"
        lifecycle.submit(self.store, self.store.campaign("other"), [loaded.contacts], named=True)
        lifecycle.start(self.store, "other")
        self.campaigns.append("other")

    @precondition(lambda self: "retry" not in self.campaigns and self.version > 0)
    @rule()
    def a_retry_run_of_the_campaigns_results(self) -> None:
        watch.export(self.store, "main", self.results)
        config = _config("retry", self.deadline, retry_of=str(self.results))
        self.store.create_campaign(config)
        loaded = load_contacts(self.results.open("rb"), name=self.results.name)
        for contact in loaded.contacts:
            self.expected[("retry", contact.phone_e164)] = contact.row.get("name", "")
        lifecycle.submit(self.store, self.store.campaign("retry"), [loaded.contacts], named=True)
        lifecycle.start(self.store, "retry")
        self.campaigns.append("retry")

    @rule(number=st.sampled_from(NUMBERS))
    def put_a_number_on_the_do_not_call_list(self, number: str) -> None:
        self.store.dnc_add("default", [number], reason="asked")
        self.dnc.add(number)

    @rule(number=st.sampled_from(NUMBERS))
    def a_test_call(self, number: str) -> None:
        """The operator's test call passes the same claim: refused for a listed number, or one
        a campaign of the account called within the gap."""
        request = CallRequest(
            agent_id=DEFAULT_AGENT_ID,
            to_number=number,
            from_number=DEFAULT_FROM_NUMBER,
            metadata={"dialer_test_call": "1"},
        )
        called = number in self.called
        untouched = all(
            c is None or (c.sends == 0 and c.attempt == 1)
            for c in (self.record(cid, number) for cid in self.campaigns)
        )
        try:
            place_test_call(self.store, self.d.client, "default", request, rules=NumberRules(GAP_S))
        except InputError as exc:
            assert number in self.dnc or not untouched, f"refused for nothing: {exc}"
            return
        assert number not in self.dnc, "a test call to a do-not-call number was placed"
        assert not called, "a test call within the gap of a campaign's call was placed"

    @precondition(lambda self: not self.passed)
    @rule()
    def the_deadline_passes(self) -> None:
        """Time jumps past the deadline: every wait, which the deadline ends, is over."""
        self.passed = True
        self.offset = self.deadline - datetime.now(UTC) + timedelta(seconds=1)
        for _ in range(3):  # a create being looked up is found, or dialled again: not now
            self.follow()
        for cid in self.campaigns:
            key = ready_key(cid)
            for member in self.store.redis.zrange(key, 0, -1):
                self.store.redis.zadd(key, {member: 0})
            for member in self.store.pending_rows(cid):
                place(self.d, cid, member)
            assert self.store.pending_rows(cid) == [], "a contact still waits after the deadline"

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def each_create_is_its_numbers_once_per_attempt_with_its_latest_variables(self) -> None:
        creates = self.http.get(f"{self.sim_url}/_sim/creates").json()
        assert isinstance(creates, list)
        for create in creates[self.seen :]:
            if not create["call_id"]:
                continue
            number = create["to_number"]
            called = self.store.redis.zrange(ledger_key("default", number), 0, -1)
            if create["metadata"].get("dialer_test_call"):
                assert any(c.startswith("test-call|") for c in called), "test call not noted"
                continue
            self.called.add(number)
            cid, member, attempt = create["metadata"]["dialer_attempt_id"].rsplit(":", 2)
            contact = self.store.contact(cid, int(member))
            assert contact is not None and contact.phone == number, "created for another number"
            key = (cid, number, int(attempt))
            assert key not in self.created, f"{number} created twice for attempt {attempt}"
            self.created.add(key)
            variables = self.d.client.get_call(create["call_id"]).variables
            assert variables == {"name": self.expected[(cid, number)]}
            assert any(c.startswith(f"{cid}|{member}|") for c in called), "not in its ledger"
        self.seen = len(creates)

    @invariant()
    def every_number_of_the_latest_list_is_final_live_or_waits_with_a_time(self) -> None:
        for number, row in self.latest().items():
            contact = self.record("main", number)
            assert contact is not None, f"{number} lost"
            assert contact.state in FINAL_STATES | LIVE_STATES
            assert contact.source_row == row
            if contact.state is ContactState.PENDING:
                member = str(contact.member)
                due = self.store.redis.zscore(ready_key("main"), member)
                queued = self.store.redis.zscore(queued_key("main"), member)
                assert due is not None or queued is not None, f"{number} pending with no time"

    @invariant()
    def no_wait_outlasts_the_deadline(self) -> None:
        ends = self.deadline.timestamp() * 1000 + 1000
        for cid in self.campaigns:
            late = self.store.redis.zrangebyscore(ready_key(cid), ends, "+inf")
            assert late == [], f"{cid}: contacts {late} wait past the deadline"

    @invariant()
    def the_results_hold_each_contact_once_in_the_latest_files_order(self) -> None:
        seen = list(self.store.iter_contacts("main"))
        assert len({c.member for c in seen}) == len(seen)
        assert len({c.phone for c in seen}) == len(seen)
        listed = [c.source_row for c in seen if c.source_row]
        assert listed == sorted(self.latest().values())
        assert [c.phone for c in seen[: len(listed)]] == list(self.latest())

    @invariant()
    def a_retry_run_is_not_held_by_its_own_campaigns_calls(self) -> None:
        if "retry" not in self.campaigns:
            return
        for contact in self.store.iter_contacts("retry"):
            assert "called by campaign main" not in contact.waiting


@pytest.fixture
def model(redis_url: str, simulator: RunningSimulator, tmp_path: Path) -> Iterator[type[ListModel]]:
    ListModel.redis_url, ListModel.sim_url, ListModel.tmp = redis_url, simulator.url, tmp_path
    with make_http_client(
        simulator.url, DEFAULT_API_KEY, connect_timeout=5, read_timeout=15
    ) as http:
        ListModel.http = http
        yield ListModel


@pytest.mark.timeout(360)  # ~60 s on a quiet box, 170 s seen on a loaded one
def test_the_store_keeps_each_number_one_contact_whatever_happens(model: type[ListModel]) -> None:
    random.seed(0)
    runner = model.TestCase
    runner.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=os.environ.get("DIALER_MODEL_SEED") is None,
        phases=PHASES if os.environ.get("DIALER_MODEL_SHRINK", "1") != "0" else PHASES[:-2],
    )
    runner().runTest()


def test_a_number_inserted_at_the_top_after_a_finished_run_is_dialled(
    model: type[ListModel],
) -> None:
    machine = model()
    first, top = NUMBERS[0], NUMBERS[1]
    machine._load([(first, f"{first}-v1")], "\n")
    machine.expected[("main", first)] = f"{first}-v1"
    machine.start()
    machine.dial(4)
    machine._load([(top, f"{top}-v2"), (first, f"{first}-v1")], "\n")
    machine.dial(4)
    machine.each_create_is_its_numbers_once_per_attempt_with_its_latest_variables()
    assert machine.record("main", top).state is not ContactState.PENDING
    machine.teardown()
