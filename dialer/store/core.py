"""The durable campaign state: campaigns, contacts and their compare-and-set scripts."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar, cast

import redis

from dialer.account import DEFAULT_ACCOUNT
from dialer.campaign import CampaignConfig, CampaignState
from dialer.errors import NoSuchCampaign
from dialer.pace import micros, seconds
from dialer.redis_url import redis_client
from dialer.store.account import Accounts
from dialer.store.claiming import Claims, log_transition
from dialer.store.contact import (
    ALLOWED_FROM,
    ContactRecord,
    ContactState,
    check_sets,
    indexed_args,
)
from dialer.store.dnc import DoNotCall
from dialer.store.figures import CreateNote, Figures, note_into
from dialer.store.hooks import Hooks
from dialer.store.keys import (
    ACTIVE,
    CAMPAIGNS,
    LISTS,
    RESULTS,
    account_campaigns_key,
    attempt_key,
    campaign_key,
    contact_key,
    counts_key,
    held_key,
    inflight_key,
    pace_key,
    queued_key,
    ready_key,
    script_keys,
    watch_key,
)
from dialer.store.listing import Listing
from dialer.store.loading import Loading

log = logging.getLogger("dialer.store")
T = TypeVar("T")
SHARED_LUA = {"claim": ("guard",), "send": ("guard",)}  # Lua functions a script calls


def _script(name: str) -> str:
    """The source of `dialer/store/lua/{name}.lua`, after the shared Lua functions it calls
    (Redis runs one body per script, with no imports: guard.lua's `send_guard` is prepended to
    two)."""
    parts = (*SHARED_LUA.get(name, ()), name)
    return "".join(
        files("dialer.store").joinpath("lua", f"{part}.lua").read_text() for part in parts
    )


class Store(Claims, Accounts, DoNotCall, Figures, Hooks, Listing, Loading):
    """Durable campaign state in one Redis database."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._accounts = {}
        self._transition = client.register_script(_script("transition"))
        self._claim_script = client.register_script(_script("claim"))
        self._pump = client.register_script(_script("pump"))
        self._add = client.register_script(_script("add"))
        self._send_script = client.register_script(_script("send"))

    @classmethod
    def from_url(cls, url: str) -> Store:
        """A store on the Redis at `url` (`redis://`, or `sentinel://`: see dialer.redis_url)."""
        return cls(redis_client(url))

    # -- campaigns ---------------------------------------------------------------------------

    def create_campaign(self, config: CampaignConfig) -> bool:
        """Record a new campaign (paused until started). False when the id already exists.

        A campaign with a webhook URL gets its random webhook secret here, once (a resumed
        campaign keeps its own).
        """
        config = self.with_webhook_secret(config)
        key = campaign_key(config.campaign_id)
        if not self.redis.hsetnx(key, "config", config.model_dump_json()):
            return False
        self.redis.hsetnx(key, "state", CampaignState.PAUSED.value)
        self._note_lineage(config)
        self.register_hook(config)
        self.redis.sadd(CAMPAIGNS, config.campaign_id)
        account = config.account or DEFAULT_ACCOUNT
        self.redis.sadd(account_campaigns_key(account), config.campaign_id)
        return True

    def _note_lineage(self, config: CampaignConfig) -> None:
        """Index the campaign's results file; a retry run's lineage is the campaigns that wrote
        the results it dials again, and theirs."""
        if config.results_path:
            self.redis.hset(RESULTS, os.path.realpath(config.results_path), config.campaign_id)
        parent = self._results_campaign(config.retry_of) if config.retry_of else None
        if parent and parent != config.campaign_id:
            before = str(self.redis.hget(campaign_key(str(parent)), "lineage") or "")
            lineage = ",".join(dict.fromkeys([str(parent), *filter(None, before.split(","))]))
            self.redis.hset(campaign_key(config.campaign_id), "lineage", lineage)

    def _results_campaign(self, results: str) -> str | None:
        """The campaign that writes the results file `results`: as indexed, else the list
        whose default results file it is (`<list>.results.csv` beside the list)."""
        path = os.path.realpath(results)
        found = self.redis.hget(RESULTS, path)
        if found:
            return str(found)
        lists = cast(dict[str, str], self.redis.hgetall(LISTS))
        for source, cid in lists.items():
            if os.path.join(os.path.dirname(source), f"{Path(source).stem}.results.csv") == path:
                return cid
        return None

    def lineage(self, cid: str) -> list[str]:
        """The campaigns of a retry run's lineage (those whose results it dials again)."""
        found = str(self.redis.hget(campaign_key(cid), "lineage") or "")
        return [c for c in found.split(",") if c]

    def campaign(self, cid: str) -> CampaignConfig:
        """The campaign's settings; NoSuchCampaign (a StateError) when there is none."""
        raw = self.redis.hget(campaign_key(cid), "config")
        if not raw:
            raise NoSuchCampaign(f"no campaign named {cid!r}")
        return CampaignConfig.model_validate_json(str(raw))

    def reconfigure(self, config: CampaignConfig) -> None:
        """Store a resumed campaign's changed settings (workers read them within a second)."""
        key = campaign_key(config.campaign_id)
        pipe = self.redis.pipeline()
        pipe.hset(key, "config", config.model_dump_json())
        pipe.hincrby(key, "revision", 1)
        pipe.execute()

    def campaign_state(self, cid: str) -> CampaignState | None:
        """Whether the campaign dials; None when it does not exist."""
        value = self.redis.hget(campaign_key(cid), "state")
        return CampaignState(str(value)) if value else None

    def set_campaign_state(self, cid: str, state: CampaignState) -> None:
        """Run, pause, cancel or close a campaign; the tick serves only the active ones."""
        pipe = self.redis.pipeline()
        now_ms = round(time.time() * 1000)
        pipe.hset(campaign_key(cid), mapping={"state": state.value, "updated_at": now_ms})
        if state is CampaignState.RUNNING:
            pipe.hdel(campaign_key(cid), "reason")
        if state is CampaignState.DONE:
            pipe.srem(ACTIVE, cid)
        else:
            pipe.sadd(ACTIVE, cid)
        pipe.execute()

    def retire(self, cid: str) -> None:
        """Stop serving a campaign that has nothing live left."""
        self.redis.srem(ACTIVE, cid)

    def abort(self, cid: str, reason: str) -> None:
        """Stop dialling at once (calls already placed are still followed), saying why."""
        self.redis.hset(campaign_key(cid), mapping={"reason": reason})
        self.set_campaign_state(cid, CampaignState.PAUSED)

    def campaign_reason(self, cid: str) -> str:
        """Why the campaign was stopped by the dialer itself ('' when it was not)."""
        return str(self.redis.hget(campaign_key(cid), "reason") or "")

    def active_campaigns(self) -> list[str]:
        """Campaigns the tick serves: running, paused, or cancelled with calls still live."""
        return sorted(cast(set[str], self.redis.smembers(ACTIVE)))

    # -- contacts ----------------------------------------------------------------------------

    def contact(self, cid: str, row: int) -> ContactRecord | None:
        """The contact as stored now (None when it does not exist)."""
        return _record(row, self.redis.hgetall(contact_key(cid, row)))

    def contacts(self, cid: str, rows: list[int]) -> list[ContactRecord | None]:
        """Several contacts in one round trip, in the order of `rows` (None: no such contact)."""
        pipe = self.redis.pipeline(transaction=False)
        for row in rows:
            pipe.hgetall(contact_key(cid, row))
        return [_record(row, fields) for row, fields in zip(rows, pipe.execute(), strict=True)]

    def counts(self, cid: str) -> dict[str, int]:
        """Contacts per state, only states that have some."""
        raw = cast(dict[str, str], self.redis.hgetall(counts_key(cid)))
        return {k: int(v) for k, v in raw.items() if int(v)}

    def total(self, cid: str) -> int:
        """How many contacts the campaign has."""
        return int(self.redis.hget(campaign_key(cid), "total") or 0)

    def iter_contacts(self, cid: str, batch: int = 1000) -> Iterator[ContactRecord]:
        """Every contact once: those of the latest list in its row order, then those no longer
        in it (their `source_row` 0: no row of the latest file holds them) by when they came."""
        for members in _chunks(self.list_order(cid), batch):
            pipe = self.redis.pipeline(transaction=False)
            for member, _ in members:
                pipe.hgetall(contact_key(cid, member))
            for (member, row), fields in zip(members, pipe.execute(), strict=True):
                if fields:
                    yield replace(ContactRecord.from_redis(member, fields), source_row=row)

    def list_order(self, cid: str, batch: int = 1000) -> list[tuple[int, int]]:
        """Each contact's member and its row in the latest list (0: not in it), in results
        order."""
        key = campaign_key(cid)
        last, latest = (int(v or 0) for v in self.redis.hmget(key, ["last_row", "load"]))
        listed: list[tuple[int, int]] = []
        gone: list[tuple[int, int]] = []
        for members in _chunks(list(range(1, last + 1)), batch):
            pipe = self.redis.pipeline(transaction=False)
            for member in members:
                pipe.hmget(contact_key(cid, member), ["state", "load", "source_row"])
            for member, (state, load, row) in zip(members, pipe.execute(), strict=True):
                if state is None:
                    continue
                if int(load or 0) >= latest:
                    listed.append((member, int(row or member)))
                else:
                    gone.append((member, 0))
        listed.sort(key=lambda pair: pair[1])
        return listed + gone

    def transition(
        self,
        cid: str,
        row: int,
        to: ContactState,
        *,
        ready_in_ms: int | None = None,
        lease_ms: int | None = None,
        watch_in_ms: int | None = None,
        fields: Mapping[str, str] | None = None,
        read: ContactRecord | None = None,
        note: CreateNote | None = None,
    ) -> ContactState | None:
        """Move a contact to `to` if the rules allow it from where it is now.

        Returns the state it left, or None when it was elsewhere (the caller lost the race and
        must do nothing). The contact leaves every index set and joins those given a delay.
        `read`, the contact as the caller read it, narrows that to: still in the state and
        the attempt it was read in (so a late task cannot undo what a newer one did).
        No transition leads to dialing (only the claim does): asked for, it is refused.
        `note`: a create sent, counted (`note_create`) in the same round trip, whatever the
        transition's fate.
        """
        check_sets(to, ready=ready_in_ms is not None, held=(lease_ms, watch_in_ms) != (None, None))
        allowed = ",".join(sorted(s.value for s in ALLOWED_FROM.get(to, ())))
        args: list[str] = [str(row), allowed, to.value]
        args += ["" if v is None else str(v) for v in (ready_in_ms, lease_ms, watch_in_ms)]
        args += [read.state.value, str(read.attempt)] if read else ["", ""]
        args += indexed_args()
        for name, value in (fields or {}).items():
            args += [name, value]
        keys = script_keys("transition", cid, row, self.account_of(cid))
        if note is None:
            previous = self._transition(keys=keys, args=args)
        else:
            pipe = self.redis.pipeline(transaction=False)
            note_into(pipe, cid, note)
            self._transition(keys=keys, args=args, client=pipe)
            previous = pipe.execute()[-1]
        if not previous:
            return None
        log_transition(cid, row, previous, to.value, fields or {})
        return ContactState(previous)

    def archive_attempt(self, cid: str, ended: ContactRecord) -> None:
        """Keep a finished attempt's record (the contact itself moves on to the next)."""
        key = attempt_key(cid, ended.member, ended.attempt)
        self.redis.hset(key, mapping=_mapping(ended.to_redis()))

    def attempts(self, cid: str, row: int, current: int) -> list[ContactRecord]:
        """The contact's finished attempts before `current`, oldest first."""
        pipe = self.redis.pipeline(transaction=False)
        for attempt in range(1, current):
            pipe.hgetall(attempt_key(cid, row, attempt))
        return [ContactRecord.from_redis(row, a) for a in pipe.execute() if a]

    def forget_watch(self, cid: str, row: int) -> None:
        """Drop a follow-up that is no longer needed (the contact is final or pending)."""
        self.redis.zrem(watch_key(cid), str(row))

    def slow_down(self, cid: str, delay_s: float) -> None:
        """Delay the campaign's next create by `delay_s` (after a 429), never bunching later; and
        its account's, which the 429 speaks for."""
        self.slow_account(self.account_of(cid), delay_s)
        now_us = self.server_ms() * 1000
        key = pace_key(cid)
        tat = int(self.redis.hget(key, "tat") or 0)
        self.redis.hset(key, "tat", max(tat, now_us + micros(delay_s)))

    def pace_backlog_s(self, cid: str) -> float:
        """How far ahead the campaign's send slots are already reserved, in seconds."""
        tat = int(self.redis.hget(pace_key(cid), "tat") or 0)
        return max(0.0, seconds(tat - self.server_ms() * 1000))

    def pump(
        self,
        cid: str,
        *,
        max_dial: int,
        requeue_after_ms: int,
        max_follow: int,
        follow_lease_ms: int,
    ) -> tuple[list[int], list[int]]:
        """Rows due to be dialled and rows due a follow-up, now marked as taken."""
        args = [str(max_dial), str(requeue_after_ms), str(max_follow), str(follow_lease_ms)]
        dial, follow = self._pump(keys=script_keys("pump", cid), args=args)
        return [int(r) for r in dial], [int(r) for r in follow]

    def queued_count(self, cid: str) -> int:
        """How many pending contacts have a dial task in flight."""
        return int(self.redis.zcard(queued_key(cid)))

    def live_inflight(self, cid: str) -> int:
        """Concurrency slots held now (unexpired leases)."""
        return int(self.redis.zcount(inflight_key(cid), self.server_ms(), "+inf"))

    def pending_rows(self, cid: str) -> list[int]:
        """Rows still waiting to be dialled (ready, queued, or held while a load runs)."""
        rows: set[str] = set()
        for key in (ready_key(cid), queued_key(cid), held_key(cid)):
            rows.update(cast(list[str], self.redis.zrange(key, 0, -1)))
        return sorted(int(r) for r in rows)


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    """`items` in slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _record(row: int, fields: Any) -> ContactRecord | None:
    """The record of an HGETALL answer; None for an empty one (no such contact)."""
    return ContactRecord.from_redis(row, fields) if fields else None


def _mapping(fields: Mapping[str, str]) -> Any:
    """redis-py's mapping type is invariant in its keys; a str->str mapping is what we write."""
    return dict(fields)
