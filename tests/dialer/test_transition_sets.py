"""A transition leaves the contact in exactly the index sets it was given a delay for (ready,
inflight, watch; the account's inflight beside the campaign's), whatever sets it was in, and
refuses a delay for a set its new state does not use (the script leaves only the sets of the
state a contact leaves): the script against a plain model, on a real Redis, over random
sequences of transitions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from dialer.pace import Pace
from dialer.store import ContactState, Store
from dialer.store.contact import ALLOWED_FROM, FOLLOWED_STATES, WAITING_STATES
from dialer.store.keys import (
    account_inflight_key,
    contact_key,
    inflight_key,
    queued_key,
    ready_key,
    watch_key,
)

CID = "sets"
STATES = list(ContactState)  # DIALING here: the claim, the one way into it
delay = st.one_of(st.none(), st.integers(0, 100_000))
step = st.tuples(st.sampled_from(STATES), delay, delay, delay, st.booleans())


@pytest.fixture
def store(redis_url: str) -> Iterator[Store]:
    opened = Store.from_url(redis_url)
    yield opened
    opened.redis.close()


def _members(store: Store) -> set[str]:
    sets = {
        "ready": ready_key(CID),
        "queued": queued_key(CID),
        "inflight": inflight_key(CID),
        "watch": watch_key(CID),
    }
    found = {name for name, key in sets.items() if store.redis.zscore(key, "1") is not None}
    account = account_inflight_key(store.account_of(CID))
    if store.redis.zscore(account, contact_key(CID, 1)) is not None:
        found.add("account")
    return found


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_a_transition_leaves_the_contact_in_the_sets_it_was_given(
    store: Store, steps: list[tuple[ContactState, int | None, int | None, int | None, bool]]
) -> None:
    store.redis.flushall()
    config = CampaignConfig(campaign_id=CID, agent_id="a", from_number="+14155550100")
    store.create_campaign(config)
    store.add_contacts(CID, [Contact(1, "+14155550001", {"phone": "+14155550001"})], ("phone",))
    store.set_campaign_state(CID, CampaignState.RUNNING)
    state, sets = ContactState.PENDING, _members(store)
    for to, ready, lease, watch, with_read in steps:
        if to is ContactState.DIALING:
            claim = store.claim(
                CID, 1, pace=Pace(interval_s=1e-6), max_concurrent=10, lease_s=60, stuck_s=30
            )
            assert claim.won is (state is ContactState.PENDING)
            if claim.won:
                state, sets = to, {"inflight", "watch", "account"}
            assert _members(store) == sets
            continue
        read = store.contact(CID, 1) if with_read else None
        fits = (ready is None or to in WAITING_STATES) and (
            (lease, watch) == (None, None) or to in FOLLOWED_STATES
        )
        if not fits:
            with pytest.raises(ValueError, match="not indexed that way"):
                store.transition(
                    CID, 1, to, ready_in_ms=ready, lease_ms=lease, watch_in_ms=watch, read=read
                )
            assert _members(store) == sets
            continue
        moved = store.transition(
            CID, 1, to, ready_in_ms=ready, lease_ms=lease, watch_in_ms=watch, read=read
        )
        if state in ALLOWED_FROM.get(to, ()):
            assert moved is state
            state = to
            sets = {
                n
                for n, d in (("ready", ready), ("inflight", lease), ("watch", watch))
                if d is not None
            }
            sets |= {"account"} if lease is not None else set()
        else:
            assert moved is None
        assert store.contact(CID, 1).state is state  # type: ignore[union-attr]
        assert _members(store) == sets
        counts = store.counts(CID)
        assert counts == {state.value: 1}
