"""An upload is not an identity: two lists of the same name are two campaigns, each campaign
and web schedule keeps its own copy of its list, a refused upload changes nothing stored, and
only a campaign id named in the request resumes a campaign.

A real app on a real Redis (uvicorn in a thread, no worker) and the simulator over HTTP, with
two agents and two from-numbers, as two people of one account would use them.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dialer.settings import Settings
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, SimulatorConfig
from dialer.simulator.server import start_in_thread
from dialer.store import Store
from tests.support import serve_in_thread
from workers.scheduler import load
from workers.server.app import build_app
from workers.server.context import Server
from workers.server.web.login import COOKIE, CSRF_FIELD

TOKEN = "lists-test-token-0123456789"
OTHER_AGENT = "7d1f1c3e-5a4b-4c2d-9e8f-0a1b2c3d4e5f"
ANN_FROM, BOB_FROM = "+14155550100", "+14155550111"
ANNS = b"phone,name\n+14155552001,Ann\n+14155552002,Abe\n"
BOBS = b"phone,name\n+14155553001,Bob\n+14155553002,Bea\n+14155553003,Bo\n"
UNKNOWN_AGENT = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def app(redis_url: str, tmp_path: Path) -> Iterator[tuple[str, Server]]:
    config = SimulatorConfig(
        speed=200.0,
        seed=3,
        agents={DEFAULT_AGENT_ID: "Ann's agent", OTHER_AGENT: "Bob's agent"},
        from_numbers=[ANN_FROM, BOB_FROM],
    )
    with start_in_thread(config) as sim:
        settings = Settings(
            api_key=DEFAULT_API_KEY, base_url=sim.url, redis_url=redis_url, state_dir=tmp_path
        )
        store = Store.from_url(redis_url)
        server = Server(settings=settings, store=store, token=TOKEN, state_dir=tmp_path)
        with serve_in_thread(build_app(server)) as url:
            yield url, server


@pytest.fixture
def api(app: tuple[str, Server]) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=app[0], headers=headers, timeout=30) as client:
        yield client


def _upload(
    api: httpx.Client,
    content: bytes,
    name: str = "leads.csv",
    agent: str = DEFAULT_AGENT_ID,
    number: str = ANN_FROM,
    **form: str,
) -> httpx.Response:
    fields = {"agent_id": agent, "from_number": number, "window": "always", **form}
    return api.post("/api/campaigns", files={"file": (name, content)}, data=fields)


def _numbers(api: httpx.Client, cid: str) -> dict[str, str]:
    """The campaign's contacts as its results file has them: number -> status."""
    got = api.get(f"/api/campaigns/{cid}/results.csv")
    assert got.status_code == 200, got.text
    return {row["phone_e164"]: row["status"] for row in csv.DictReader(io.StringIO(got.text))}


def _stored(root: Path) -> dict[str, bytes]:
    """Every file under the state folder's uploads, with its content."""
    folder = root / "uploads"
    found = folder.rglob("*") if folder.exists() else iter(())
    return {str(p.relative_to(folder)): p.read_bytes() for p in found if p.is_file()}


def test_two_uploads_named_alike_are_two_campaigns(
    api: httpx.Client, app: tuple[str, Server], tmp_path: Path
) -> None:
    ann = _upload(api, ANNS)
    bob = _upload(api, BOBS, agent=OTHER_AGENT, number=BOB_FROM)
    assert ann.status_code == 201 and bob.status_code == 201, ann.text + bob.text
    assert not ann.json()["resumed"] and not bob.json()["resumed"]
    ann_id, bob_id = ann.json()["id"], bob.json()["id"]
    assert ann_id != bob_id
    assert ann_id.startswith("leads-") and bob_id.startswith("leads-")
    store = app[1].store
    assert (store.campaign(ann_id).agent_id, store.campaign(ann_id).from_number) == (
        DEFAULT_AGENT_ID,
        ANN_FROM,
    )
    assert (store.campaign(bob_id).agent_id, store.campaign(bob_id).from_number) == (
        OTHER_AGENT,
        BOB_FROM,
    )
    assert _numbers(api, ann_id) == {"+14155552001": "pending", "+14155552002": "pending"}
    assert _numbers(api, bob_id) == dict.fromkeys(
        ("+14155553001", "+14155553002", "+14155553003"), "pending"
    )
    listed = {c["id"]: (c["state"], c["list_name"]) for c in api.get("/api/campaigns").json()}
    assert listed == {ann_id: ("running", "leads.csv"), bob_id: ("running", "leads.csv")}
    for cid, content in ((ann_id, ANNS), (bob_id, BOBS)):
        kept = tmp_path / "uploads" / cid / "leads.csv"
        assert kept.read_bytes() == content, "each campaign keeps its own copy"
        assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(kept.parent).st_mode) == 0o700


def test_naming_a_campaign_resumes_it_with_new_numbers_only(
    api: httpx.Client, tmp_path: Path
) -> None:
    cid = _upload(api, ANNS).json()["id"]
    edited = b"phone,name\n+14155552009,New\n" + ANNS.split(b"\n", 1)[1]
    again = _upload(api, edited, name="leads (2).csv", campaign=cid)
    assert again.status_code == 200 and again.json()["resumed"], again.text
    assert again.json()["id"] == cid and again.json()["total"] == 3
    assert _numbers(api, cid) == dict.fromkeys(
        ("+14155552009", "+14155552001", "+14155552002"), "pending"
    )
    assert [c["id"] for c in api.get("/api/campaigns").json()] == [cid]
    assert _stored(tmp_path) == {f"{cid}/leads.csv": edited}, "its copy, updated in place"
    other = _upload(api, ANNS)
    assert other.status_code == 201 and other.json()["id"] != cid, "unnamed: a new campaign"


@pytest.mark.parametrize(
    ("form", "content", "field"),
    [
        ({"agent_id": UNKNOWN_AGENT}, ANNS, "agent_id"),  # the preflight refuses it
        ({"rate": "fast"}, ANNS, "rate"),
        ({}, b"%PDF-1.7\n\x00\x01binary", "file"),
        ({"phone_column": "mobile"}, ANNS, "phone_column"),
    ],
)
def test_a_refused_upload_changes_nothing_stored(
    api: httpx.Client, tmp_path: Path, form: dict[str, str], content: bytes, field: str
) -> None:
    cid = _upload(api, ANNS).json()["id"]
    before = (_stored(tmp_path), api.get("/api/campaigns").json(), _numbers(api, cid))
    fresh = _upload(api, content, **form)
    assert fresh.status_code == 422 and fresh.json()["field"] == field, fresh.text
    resumed = _upload(api, content, **{**form, "campaign": cid})
    assert resumed.status_code == 422 and resumed.json()["field"] == field, resumed.text
    after = (_stored(tmp_path), api.get("/api/campaigns").json(), _numbers(api, cid))
    assert after == before
    assert sorted(p.name for p in (tmp_path / "files").iterdir()) == [cid]


def test_a_list_with_no_valid_contact_makes_no_campaign(api: httpx.Client, tmp_path: Path) -> None:
    cid = _upload(api, ANNS).json()["id"]
    before = _stored(tmp_path)
    pending = _numbers(api, cid)
    refused = _upload(api, b"phone,name\nnot a phone,Cy\n")
    assert refused.status_code == 422 and refused.json()["field"] == "file", refused.text
    resumed = _upload(api, b"phone,name\nnot a phone,Cy\n", campaign=cid)
    assert resumed.status_code == 422 and resumed.json()["field"] == "file", resumed.text
    assert _numbers(api, cid) == pending, "a wrong file named to resume cancels nobody"
    assert [c["id"] for c in api.get("/api/campaigns").json()] == [cid]
    assert _stored(tmp_path) == before
    assert sorted(p.name for p in (tmp_path / "files").iterdir()) == [cid]


def test_a_web_schedule_keeps_its_own_list(
    api: httpx.Client, app: tuple[str, Server], tmp_path: Path
) -> None:
    url = app[0]
    login = httpx.post(f"{url}/login", data={"token": TOKEN}, timeout=30)
    cookies = {COOKIE: login.cookies[COOKIE]}
    page = httpx.get(f"{url}/schedules", cookies=cookies, timeout=30)
    token = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page.text)
    assert token, page.text
    fields = {
        CSRF_FIELD: token.group(1),
        "name": "daily",
        "cron": "0 10 * * mon-fri",
        "tz": "UTC",
        "agent_id": DEFAULT_AGENT_ID,
        "from_number": ANN_FROM,
        "window": "always",
    }
    added = httpx.post(f"{url}/schedules", data=fields, files={"file": ("leads.csv", BOBS)},
                       cookies=cookies, timeout=30)  # fmt: skip
    assert added.status_code == 303, added.text
    kept = Path(load(app[1].store)["daily"].contacts)
    assert kept.parent.parent == (tmp_path / "uploads" / "schedules").resolve()
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600

    assert _upload(api, ANNS).status_code == 201  # the same name, another list
    assert _upload(api, b"not,a list\n").status_code == 422  # the same name, refused
    assert kept.read_bytes() == BOBS, "no other upload touches a schedule's list"
    started = api.post("/api/schedules/daily/run")
    assert started.status_code == 201, started.text
    assert set(_numbers(api, started.json()["campaign"])) == {
        "+14155553001", "+14155553002", "+14155553003"
    }  # fmt: skip

    past = {**fields, "deadline": "2020-01-01 10:00"}  # refused once its list is received
    again = {"file": ("leads.csv", ANNS)}
    refused = httpx.post(f"{url}/schedules", data=past, files=again, cookies=cookies, timeout=30)
    assert refused.status_code == 422
    assert Path(load(app[1].store)["daily"].contacts) == kept
    assert list((tmp_path / "uploads" / "schedules").resolve().rglob("*.csv")) == [kept]
    assert kept.read_bytes() == BOBS, "a refused save keeps the job's list"

    assert api.delete("/api/schedules/daily").status_code == 204
    assert not kept.parent.exists(), "a removed job's copy goes with it"
