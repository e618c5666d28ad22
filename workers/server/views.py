"""A campaign as the API shows it: counts, pace and ETA from its counters (never by scanning its
contacts); why contacts wait from a fixed sample of the next ones due."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from campaigns.progress import Progress, progress
from dialer.campaign import CampaignConfig
from dialer.store import LIVE_STATES, ContactState, Store

WAITING_SAMPLE = 100  # why contacts wait: read from the next 100 due, whatever the size
HIDDEN = frozenset({"webhook_secret", "source", "results_path", "columns", "variable_columns"})


class PaceView(BaseModel):
    """How fast the campaign may go, and how busy it is now."""

    limit_per_s: float
    max_concurrent: int
    in_progress: int


class CampaignSummary(BaseModel):
    """One line of the campaigns list."""

    id: str
    state: str
    stopped_reason: str
    list_name: str
    total: int
    done: int
    counts: dict[str, int]


class CampaignDetail(CampaignSummary):
    """One campaign: its counts, pace, ETA, why contacts wait, and its options."""

    dialled: int
    pace: PaceView
    eta_s: float | None  # seconds of dialling left; None when there is no telling (paused)
    eta: str  # the estimate in words, naming what binds it
    limited_by: str
    trouble: str  # OneInbox's errors of the last minute in words ('' = none)
    next_due: datetime | None
    waiting: dict[str, int]
    options: dict[str, object]
    cost: str = ""  # the carrier cost so far, and the calls whose cost is unknown


def listing(store: Store) -> list[CampaignSummary]:
    """Every campaign, from one round trip to Redis."""
    return [
        _summary(
            seen.config.campaign_id,
            Progress(seen.state, seen.total, seen.counts, seen.reason),
            seen.config,
        )
        for seen in store.overviews(store.campaign_ids())
    ]


def summary(store: Store, cid: str) -> CampaignSummary:
    """The campaign's state in words and its counts."""
    return _summary(cid, progress(store, cid), store.campaign(cid))


def _summary(cid: str, now: Progress, config: CampaignConfig) -> CampaignSummary:
    return CampaignSummary(
        id=cid,
        state=now.state.value,
        stopped_reason=now.reason,
        list_name=Path(config.source).name,
        total=now.total,
        done=now.done,
        counts=now.counts,
    )


def detail(store: Store, cid: str) -> CampaignDetail:
    """Everything the API says about one campaign."""
    now = progress(store, cid)
    config = store.campaign(cid)
    due_ms, reasons = store.waiting(cid, sample=WAITING_SAMPLE)
    in_progress = sum(
        now.counts.get(s.value, 0) for s in LIVE_STATES if s is not ContactState.PENDING
    )
    return CampaignDetail(
        **_summary(cid, now, config).model_dump(),
        dialled=now.dialled,  # contacts with a create sent
        pace=PaceView(
            limit_per_s=config.rate_per_s,
            max_concurrent=config.max_concurrent,
            in_progress=in_progress,
        ),
        eta_s=_rounded(now.finish.seconds if now.finish else None),
        eta=now.finish.text if now.finish else "",
        limited_by=now.finish.limited_by if now.finish else "",
        trouble=now.trouble,
        next_due=datetime.fromtimestamp(due_ms / 1000, UTC) if due_ms else None,
        waiting={reason: count for reason, (count, _due) in reasons.items()},
        options=options(config),
        cost=now.cost,
    )


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


def options(config: CampaignConfig) -> dict[str, object]:
    """The campaign's settings as stored, without its webhook secret or server paths."""
    return {k: v for k, v in config.model_dump().items() if k not in HIDDEN}


def in_progress(store: Store, cid: str) -> int:
    """Contacts being dialled or followed now."""
    counts = store.counts(cid)
    return sum(counts.get(s.value, 0) for s in LIVE_STATES if s is not ContactState.PENDING)
