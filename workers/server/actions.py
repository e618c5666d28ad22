"""What the campaign routes do, as plain functions of the `Server`: create from an uploaded
list, steer, retry, delete. The routes only turn requests into calls of these."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaigns import lifecycle, preflight, watch
from campaigns.model import Reject
from campaigns.planning import RunPlan, plan_run
from campaigns.reselect import RETRYABLE, retry_id
from dialer.campaign import CampaignState
from dialer.run_options import RunOptions
from workers.server import checks, forms, lists, uploads, views
from workers.server.context import Server
from workers.server.errors import ApiError


@dataclass(frozen=True)
class Request:
    """A campaign asked for over HTTP: its list (still in its temporary file), its options."""

    part: Path
    filename: str | None
    values: dict[str, Any]
    campaign: str | None = None
    preflight: bool = True


@dataclass(frozen=True)
class Submitted:
    """What `create` did: the campaign, whether it resumed, the preflight's checks, how many
    rows of the list were rejected."""

    cid: str
    resumed: bool
    preflight: list[checks.CheckView]
    rejected: int = 0


def create(server: Server, asked: Request) -> Submitted:
    """Check, then start a new campaign of an uploaded list (or resume the one the request
    names). The campaign keeps its own copy of its list, `uploads/<campaign id>/<file name>`,
    written only once the campaign is stored: a refused upload changes nothing."""
    opts = forms.build(asked.values, webhook_url=server.webhook_url)
    name = uploads.list_name(asked.filename)
    store = server.store
    cid = asked.campaign or lists.new_campaign_id(store, name)
    target = lists.campaign_list(server.uploads, store, cid, name)
    staged = lists.stage(asked.part, target)
    try:
        done = _plan_and_submit(server, asked, opts, cid, staged, target)
    except BaseException:
        lists.discard(staged)
        if store.campaign_state(cid) is None:  # refused: no campaign, so none of its files
            shutil.rmtree(server.files(cid), ignore_errors=True)
        raise
    lists.settle(staged, target)
    return done


def _plan_and_submit(
    server: Server, asked: Request, opts: RunOptions, cid: str, staged: Path, target: Path
) -> Submitted:
    folder = server.files(cid)
    chosen = plan_run(
        server.settings,
        staged,
        opts,
        campaign=cid,
        results=folder / "results.csv",
        rejects=folder / "rejects.csv",
    )
    chosen.config = chosen.config.model_copy(update={"source": str(target.resolve())})
    chosen.source = target
    if not asked.preflight:
        rejects: list[Reject] = []
        submitted = _submit(server, chosen, rejects)
        return Submitted(submitted.config.campaign_id, submitted.resumed, [], len(rejects))
    return _checked_submit(server, chosen)


def _checked_submit(server: Server, chosen: RunPlan) -> Submitted:
    """The preflight in the very pass that loads the list: the checks that need no list
    first (a failure stores nothing), the rest while the list streams into its campaign."""
    with preflight.begin(server.settings, chosen, local=False) as under_way:
        if failure := checks.refused(under_way.checks):
            chosen.contact_file.close()
            raise failure
        rejects: list[Reject] = []
        submitted = _submit(server, chosen, rejects, screen=under_way)
        found = under_way.finish(rejects)
    cid = submitted.config.campaign_id
    return Submitted(cid, submitted.resumed, checks.views(found.checks), len(rejects))


def _submit(
    server: Server,
    chosen: RunPlan,
    rejects: list[Reject] | None = None,
    *,
    screen: lifecycle.Screen | None = None,
) -> lifecycle.Submission:
    """Load the list into its campaign and start it (a resumed campaign: numbers new to it
    are added, nobody already dialled is dialled again)."""
    store = server.store
    submitted = lifecycle.load(store, chosen, [] if rejects is None else rejects, screen=screen)
    cid = submitted.config.campaign_id
    if not lifecycle.seen(submitted.loaded):  # resumed: nobody settled, nothing started
        if not submitted.resumed:
            store.delete_campaign(cid)
        raise ApiError(422, f"{chosen.source.name}: no valid contact to dial", field="file")
    lifecycle.start(store, cid)
    return submitted


def users_of(server: Server, source: Path) -> list[str]:
    """Campaigns whose list is the file at `source`."""
    store, path = server.store, str(source.resolve())
    return [cid for cid in store.campaign_ids() if store.campaign(cid).source == path]


def _forget_list(server: Server, source: Path) -> None:
    if source.parent == server.uploads and not users_of(server, source):
        source.unlink(missing_ok=True)


def pause(server: Server, cid: str) -> None:
    """Dial nobody new (calls in progress finish); only a running campaign."""
    _require(server, cid, {CampaignState.RUNNING}, "pause")
    lifecycle.pause(server.store, cid)


def resume(server: Server, cid: str) -> None:
    """Dial again; only a paused campaign."""
    _require(server, cid, {CampaignState.PAUSED}, "resume")
    lifecycle.start(server.store, cid)


def cancel(server: Server, cid: str) -> int:
    """Stop for good; returns how many contacts will not be dialled."""
    _require(server, cid, {CampaignState.RUNNING, CampaignState.PAUSED}, "cancel")
    return lifecycle.cancel(server.store, cid)


def _require(server: Server, cid: str, allowed: set[CampaignState], action: str) -> None:
    state = server.store.campaign_state(cid)
    if state is None:
        raise ApiError(404, f"no campaign named {cid!r}")
    if state not in allowed:
        raise ApiError(409, f"campaign {cid} is {state.value}: it cannot {action}")


def delete(server: Server, cid: str) -> None:
    """Remove a campaign that is not running, its files, and its list if no other uses it."""
    store = server.store
    state = store.campaign_state(cid)
    if state is None:
        raise ApiError(404, f"no campaign named {cid!r}")
    busy = views.in_progress(store, cid)
    if state is CampaignState.RUNNING or busy:
        raise ApiError(
            409,
            f"campaign {cid} is running ({busy} calls in progress): pause or cancel it, "
            "and delete it once its calls in progress have ended",
        )
    source = Path(store.campaign(cid).source)
    store.delete_campaign(cid)
    shutil.rmtree(server.files(cid), ignore_errors=True)
    lists.forget_campaign_list(server.uploads, cid, source)
    _forget_list(server, source)


def retry(server: Server, cid: str, statuses: list[str]) -> str:
    """A new campaign of the contacts of `cid` whose status is among `statuses`; its id."""
    chosen = set(statuses)
    unknown = chosen - set(RETRYABLE)
    if not chosen or unknown:
        raise ApiError(422, f"statuses: choose among {', '.join(RETRYABLE)}", field="statuses")
    store = server.store
    config = store.campaign(cid)
    results = server.files(cid) / "results.csv"
    watch.export(store, cid, results)
    new = retry_id(results, chosen, stem=cid)  # asked again, the same retry resumes
    picked = lifecycle.select_retry(results, chosen, server.uploads / f"{new}.csv")
    if picked.rows == 0:
        raise ApiError(
            422, f"no contact of {cid} ended {', '.join(sorted(chosen))}", field="statuses"
        )
    plan = lifecycle.retry_plan(config, new, picked, server.files(new))
    plan.config = plan.config.model_copy(update={"retry_of": str(results.resolve())})
    _submit(server, plan)
    return new
