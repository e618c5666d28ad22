"""The REST API's contract at its edges, against a real Redis over HTTP (uvicorn in a thread,
no worker): the token, bad input as 422s naming the field, upload limits, what is public."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from openpyxl import Workbook

from campaigns.progress import Progress
from dialer.campaign import CampaignState
from dialer.run_options import RunOptions
from dialer.settings import Settings
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import Store
from tests.support import serve_in_thread
from workers.server.access_log import HideWebhookSecrets
from workers.server.api.events import ended
from workers.server.app import build_app
from workers.server.context import Server
from workers.server.files import text_cell

TOKEN = "test-token-0123456789"
CONTACTS = b"phone,name\n+14155552001,Ann\n+14155552002,Bob\nnot a phone,Cy\n"


@pytest.fixture
def api(redis_url: str, tmp_path: Path, simulator: RunningSimulator) -> Iterator[httpx.Client]:
    settings = Settings(
        api_key=DEFAULT_API_KEY, base_url=simulator.url, redis_url=redis_url, state_dir=tmp_path
    )
    server = Server(
        settings=settings,
        store=Store.from_url(redis_url),
        token=TOKEN,
        state_dir=tmp_path,
        max_upload_bytes=64 * 1024,
    )
    with serve_in_thread(build_app(server)) as url:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            yield client


def _create(
    api: httpx.Client, content: bytes = CONTACTS, *, filename: str = "leads.csv", **form: str
) -> httpx.Response:
    fields = {"agent_id": DEFAULT_AGENT_ID, "from_number": DEFAULT_FROM_NUMBER, **form}
    return api.post("/api/campaigns", files={"file": (filename, content)}, data=fields)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/campaigns"),
        ("GET", "/api/campaigns/x"),
        ("POST", "/api/campaigns/x/pause"),
        ("DELETE", "/api/campaigns/x"),
        ("GET", "/api/campaigns/x/results.csv"),
        ("GET", "/api/campaigns/x/events"),
        ("GET", "/api/schedules"),
        ("POST", "/api/contacts/inspect"),
    ],
)
def test_every_api_route_needs_the_token(api: httpx.Client, method: str, path: str) -> None:
    bare = httpx.request(method, f"{api.base_url}{path}", timeout=10)
    assert bare.status_code == 401
    assert bare.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in bare.json()["error"]
    wrong = httpx.request(
        method, f"{api.base_url}{path}", headers={"Authorization": "Bearer nope"}, timeout=10
    )
    assert wrong.status_code == 401


def test_docs_and_webhooks_are_outside_the_token(api: httpx.Client) -> None:
    docs = httpx.get(f"{api.base_url}/docs")
    assert docs.status_code == 200
    assert "GET /api/campaigns/{cid}/rejects</code>" in docs.text and "`rejected`" in docs.text
    document = httpx.get(f"{api.base_url}/openapi.json").json()
    assert "/api/campaigns" in document["paths"]
    create = document["paths"]["/api/campaigns"]["post"]["requestBody"]["content"]
    ref = create["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = set(document["components"]["schemas"][ref]["properties"])
    # Every run option is a form field named as `dialer run`'s option (but the server-side dnc).
    assert fields == {*RunOptions.model_fields, "file", "campaign", "preflight"} - {"dnc"}
    assert "/api/campaigns/{cid}/events" in document["paths"]
    hook = httpx.post(f"{api.base_url}/webhooks/oneinbox", content=b"{}")
    assert hook.status_code != 401


def test_inspect_shows_columns_counts_rejects_and_samples(
    api: httpx.Client, tmp_path: Path
) -> None:
    found = api.post("/api/contacts/inspect", files={"file": ("leads.csv", CONTACTS)})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["phone_column"] == "phone"
    assert body["contacts"] == 2 and body["rejected"] == 1
    assert body["rejects_by_reason"] == {"not_a_number": 1}
    assert body["samples"][0] == {
        "source_row": 2,  # the header is row 1
        "phone_e164": "+14155552001",
        "variables": {"name": "Ann"},
    }
    assert not list((tmp_path / "uploads").iterdir()), "an inspection keeps nothing"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"rate": "fast"}, "rate"),
        ({"max_concurrent": "many"}, "max_concurrent"),
        ({"max_concurrent": "0"}, "max_concurrent"),
        ({"default_region": "XX"}, "default_region"),
        ({"window": "25:00-26:00"}, "window"),
        ({"retry_on": "sometimes"}, "retry_on"),
        ({"from_number": "12"}, "from_number"),
        ({"campaign": "no spaces allowed"}, "campaign"),
        ({"webhook_url": "gopher://127.0.0.1:6379/_FLUSHALL"}, "webhook_url"),
        ({"webhook_url": "http://169.254.169.254/latest/meta-data"}, "webhook_url"),
        ({"webhook_url": "file:///etc/passwd"}, "webhook_url"),
        ({"rate": "1" + "0" * 40 + "/s"}, "rate"),
        ({"rate": "0." + "0" * 300 + "1/h"}, "rate"),
        ({"rate": "5000/s"}, "rate"),
        ({"rate": "0.01/h"}, "rate"),
        ({"max_concurrent": str(2**64)}, "max_concurrent"),
        ({"max_attempts": str(10**9)}, "max_attempts"),
        ({"retry_delay": "9" * 30 + "d"}, "retry_delay"),
        ({"retry_delay": "9" * 5000 + "s"}, "retry_delay"),
        ({"min_gap": "9" * 30 + "d"}, "min_gap"),
        ({"start_at": "9999-12-31T23:59:00-05:00"}, "start_at"),
        ({"start_at": "0001-01-01T00:00:00+05:00"}, "start_at"),
        ({"deadline": "9999-12-31T23:59:00-05:00"}, "deadline"),
        ({"deadline": "0001-01-01T00:00:00+05:00"}, "deadline"),
        ({"window": "08:00-" + "9" * 50_000}, "window"),
    ],
)
def test_a_bad_option_is_a_422_naming_it(
    api: httpx.Client, form: dict[str, str], field: str
) -> None:
    answer = _create(api, **form)
    assert answer.status_code == 422, answer.text[:300]
    assert answer.json()["field"] == field
    assert answer.json()["error"]
    assert len(answer.text) < 1000, "the error echoes the whole value"


@pytest.mark.parametrize(
    "content", [b'phone,name\n+14155552001,"a\rb"\n', b'phone\n"+1415\r5552001"\n']
)
def test_a_carriage_return_inside_a_quoted_cell_is_never_a_500(
    api: httpx.Client, content: bytes
) -> None:
    for answer in (
        _create(api, content=content),
        api.post("/api/contacts/inspect", files={"file": ("leads.csv", content)}),
    ):
        assert answer.status_code in (200, 201, 422), answer.text
        if answer.status_code == 422:
            assert answer.json()["field"] == "file" and "leads.csv" in answer.json()["error"]


def test_a_file_that_is_not_a_contact_list_is_a_422_on_file(api: httpx.Client) -> None:
    answer = _create(api, content=b"%PDF-1.7\n\x00\x01\x02binary")
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "file"
    assert "leads.csv" in answer.json()["error"]
    nothing = _create(api, content=b"phone,name\nnot a phone,Cy\n")
    assert nothing.status_code == 422 and "no valid contact" in nothing.json()["error"]
    assert api.get("/api/campaigns").json() == []
    missing = api.post("/api/campaigns", data={"agent_id": DEFAULT_AGENT_ID})
    assert missing.status_code == 422 and missing.json()["field"] == "file"


def test_a_refused_upload_leaves_no_partial_file(api: httpx.Client, tmp_path: Path) -> None:
    files = {"file": ("leads.csv", CONTACTS)}
    refused = api.post("/api/contacts/inspect", files=files, data={"default_region": "XX"})
    assert refused.status_code == 422 and refused.json()["field"] == "default_region"
    assert _create(api, rate="fast").status_code == 422
    assert _create(api, content=b"name\nAnn\n").status_code == 422
    assert list((tmp_path / "uploads").glob("*.part")) == []
    assert list((tmp_path / "uploads").glob(".*")) == []


def test_an_upload_over_the_limit_is_refused(api: httpx.Client, tmp_path: Path) -> None:
    big = b"phone,name\n" + b"+14155552001,Ann\n" * 5000  # 85 KB, over the 64 KB limit
    answer = _create(api, content=big)
    assert answer.status_code == 413
    assert "upload limit" in answer.json()["error"]
    assert not list((tmp_path / "uploads").glob("*leads*"))


def test_a_chunked_upload_is_cut_off_at_the_limit(api: httpx.Client, tmp_path: Path) -> None:
    big = b"phone,name\n" + b"+14155552001,Ann\n" * 20000  # 340 KB
    form = api.build_request("POST", "/api/campaigns", files={"file": ("leads.csv", big)})
    body = form.read()
    chunks = (body[i : i + 8192] for i in range(0, len(body), 8192))  # no Content-Length
    headers = {"content-type": form.headers["content-type"]}
    answer = api.post("/api/campaigns", content=chunks, headers=headers)
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"].startswith("the request is larger"), "cut off as it streams"
    assert not (tmp_path / "uploads").exists() or not list((tmp_path / "uploads").iterdir())


def test_every_workbook_cell_is_text_even_one_that_looks_like_a_formula() -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    cells = [text_cell(sheet, value) for value in ("=1+2", "+14155550101", "42")]
    assert [c.data_type for c in cells] == ["s", "s", "s"]


def test_an_uploaded_list_is_kept_private_as_its_campaigns_own(
    api: httpx.Client, tmp_path: Path
) -> None:
    created = _create(api, window="always")
    assert created.status_code == 201, created.text
    body = created.json()
    kept = tmp_path / "uploads" / body["id"] / "leads.csv"
    assert kept.read_bytes() == CONTACTS
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    assert body["list_name"] == "leads.csv" and body["total"] == 2
    assert body["state"] == "running" and not body["resumed"]
    listed = api.get("/api/campaigns").json()
    assert [(c["id"], c["state"], c["total"], c["counts"]) for c in listed] == [
        (body["id"], "running", 2, {"pending": 2})
    ]
    again = _create(api, window="always", campaign=body["id"])
    assert again.status_code == 200 and again.json()["resumed"]
    assert again.json()["id"] == body["id"]
    changed = _create(
        api, content=CONTACTS + b"+14155552003,Dee\n", window="always", campaign=body["id"]
    )
    assert changed.status_code == 200 and changed.json()["resumed"], "the same list, edited"
    assert changed.json()["id"] == body["id"] and changed.json()["total"] == 3
    assert api.get(f"/api/campaigns/{body['id']}").json()["counts"] == {"pending": 3}
    assert DEFAULT_API_KEY not in created.text + again.text


def test_unknown_campaign_is_a_404(api: httpx.Client) -> None:
    for method, path in [("GET", ""), ("POST", "/pause"), ("DELETE", ""), ("GET", "/results.csv")]:
        answer = api.request(method, f"/api/campaigns/nope{path}")
        assert answer.status_code == 404, (method, path, answer.text)
        assert "nope" in answer.json()["error"]


def test_delete_removes_the_campaign_its_keys_and_its_list(
    api: httpx.Client, redis_url: str, tmp_path: Path
) -> None:
    cid = _create(api, window="always").json()["id"]
    assert api.delete(f"/api/campaigns/{cid}").status_code == 409, "running: not deleted"
    assert api.post(f"/api/campaigns/{cid}/pause").status_code == 200
    assert api.delete(f"/api/campaigns/{cid}").status_code == 204
    assert api.get(f"/api/campaigns/{cid}").status_code == 404
    assert list(redis.Redis.from_url(redis_url).scan_iter(match=f"*{cid}*")) == []
    assert not (tmp_path / "uploads" / cid).exists()
    assert api.get("/api/campaigns").json() == []


def test_a_failed_preflight_dials_nobody_and_names_the_field(
    api: httpx.Client, tmp_path: Path
) -> None:
    answer = _create(api, agent_id="00000000-0000-4000-8000-000000000000", window="always")
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "agent_id"
    assert "preflight failed, nothing was dialled" in answer.json()["error"]
    assert api.get("/api/campaigns").json() == []
    assert not [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]
    unregistered = _create(api, from_number="+14155559999", window="always")
    assert unregistered.status_code == 422 and unregistered.json()["field"] == "from_number"
    skipped = _create(api, agent_id="00000000-0000-4000-8000-000000000000", preflight="false")
    assert skipped.status_code == 201, "--no-preflight's equivalent submits anyway"
    assert skipped.json()["preflight"] == []


def test_the_preflight_checks_come_back_with_the_campaign(api: httpx.Client) -> None:
    created = _create(api, window="always")
    assert created.status_code == 201, created.text
    names = {c["name"]: c["level"] for c in created.json()["preflight"]}
    assert names["API key"] == "ok" and names["agent"] == "ok" and names["from-number"] == "ok"


@pytest.mark.parametrize(
    ("state", "counts", "reason", "over"),
    [
        (CampaignState.RUNNING, {"completed": 2}, "", False),  # the tick has not closed it yet
        (CampaignState.DONE, {"completed": 2}, "", True),
        (CampaignState.CANCELED, {"placed": 1, "canceled": 1}, "", False),  # a call goes on
        (CampaignState.CANCELED, {"completed": 1, "canceled": 1}, "", True),
        (CampaignState.PAUSED, {"pending": 2}, "", False),  # paused by a person: may resume
        (CampaignState.PAUSED, {"pending": 2}, "the API key was refused", True),
    ],
)
def test_the_event_stream_ends_only_when_nothing_more_will_happen(
    state: CampaignState, counts: dict[str, int], reason: str, over: bool
) -> None:
    assert ended(Progress(state, 2, counts, reason)) is over


def test_a_webhook_secret_in_a_path_never_reaches_the_access_log() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "POST", "/webhooks/oneinbox/s3cr3t-abcdefghijkl", "1.1", 204), None,
    )  # fmt: skip
    assert HideWebhookSecrets().filter(record)
    line = record.getMessage()
    assert "s3cr3t" not in line and "/webhooks/oneinbox/[secret]" in line


def test_a_server_without_the_key_submits_and_says_what_it_did_not_check(
    redis_url: str, tmp_path: Path
) -> None:
    settings = Settings(api_key=None, redis_url=redis_url, state_dir=tmp_path)
    server = Server(settings=settings, store=Store.from_url(redis_url), token=TOKEN,
                    state_dir=tmp_path)  # fmt: skip
    with serve_in_thread(build_app(server)) as url:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as api:
            created = _create(api, window="always")
    assert created.status_code == 201, created.text
    [check] = created.json()["preflight"]
    assert check["name"] == "API key" and check["level"] == "warn"
    assert "unchecked" in check["detail"]


def test_creating_a_campaign_reads_its_list_once_preflight_included(
    api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The preflight's checks come from the pass that loads the list: one open, one pass."""
    from campaigns import contacts, planning

    reads: list[str] = []
    opened, passes = contacts.open_contacts, contacts.ContactFile.batches

    def counted_open(*args: Any, **kwargs: Any) -> contacts.ContactFile:
        reads.append("open")
        return opened(*args, **kwargs)

    def counted_pass(self: contacts.ContactFile) -> Any:
        reads.append("pass")
        yield from passes(self)

    monkeypatch.setattr(planning, "open_contacts", counted_open)
    monkeypatch.setattr(contacts.ContactFile, "batches", counted_pass)
    created = _create(api, window="always")
    assert created.status_code == 201, created.text
    assert {c["name"] for c in created.json()["preflight"]} >= {"API key", "quota", "countries"}
    assert reads == ["open", "pass"]


def test_a_rows_unregistered_from_number_rejects_that_row_as_dialer_run_does(
    api: httpx.Client, tmp_path: Path
) -> None:
    """One preflight for every door: the rows naming a from-number the account lacks are
    rejected (`unregistered_from_number`), the rest of the list is dialled."""
    rows = b"phone,name,from_number\n+14155552001,Ann,\n+14155552002,Bob,+14155559999\n"
    created = _create(api, rows, window="always")
    assert created.status_code == 201, created.text
    levels = {c["name"]: c["level"] for c in created.json()["preflight"]}
    assert levels["rows' from-numbers"] == "warn"
    cid = created.json()["id"]
    assert created.json()["total"] == 1
    rejects = (tmp_path / "files" / cid / "rejects.csv").read_text(encoding="utf-8")
    assert "unregistered_from_number" in rejects and "+14155552002" in rejects


def test_a_create_answers_its_rejected_count_and_a_route_to_the_rejects(api: httpx.Client) -> None:
    created = _create(api, content=CONTACTS + b"+14155552001,Ann again\n", preflight="false")
    assert created.status_code == 201, created.text
    done = created.json()
    assert done["rejected"] == 2 and done["rejects"] == f"/api/campaigns/{done['id']}/rejects"
    rejects = api.get(done["rejects"])
    assert rejects.status_code == 200
    assert [(r["source_row"], r["reason"]) for r in rejects.json()] == [
        (4, "not_a_number"),
        (5, "duplicate"),
    ]
    assert rejects.json()[0]["phone"] == "not a phone"
    as_csv = api.get(f"{done['rejects']}.csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    lines = as_csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "source_row,phone,reason,detail" and len(lines) == 3
    assert api.get("/api/campaigns/nope/rejects").status_code == 404
    assert api.get("/api/campaigns/nope/rejects.csv").status_code == 404


@pytest.mark.parametrize(
    ("content", "form", "field"),
    [
        (b"Telefon,Name\n+4930901820,Ann\n", {}, "phone_column"),  # name the column
        (b"phone,name\n+14155552001,Ann\n", {"min_gap": "2d"}, "min_gap"),
        (b"phone,name\n+14155552001,Ann\n", {"phone_column": "Mobile"}, "phone_column"),
        (b"phone,name\n+14155552001,Ann\n", {"rename": "name="}, "rename"),
    ],
)
def test_a_422_names_the_field_never_a_cli_option_nor_a_server_path(
    api: httpx.Client, tmp_path: Path, content: bytes, form: dict[str, str], field: str
) -> None:
    for answer in (
        _create(api, content=content, **form),
        api.post("/api/contacts/inspect", files={"file": ("leads.csv", content)}, data=form),
    ):
        if answer.url.path.endswith("inspect") and field == "min_gap":
            continue  # options the inspection does not take
        said = answer.json()["error"]
        assert answer.status_code == 422 and answer.json()["field"] == field, said
        assert "--" not in said and str(tmp_path) not in said and "/" not in said, said
        assert field in said or "leads.csv" in said


def test_random_bytes_named_xlsx_are_not_an_excel_workbook(api: httpx.Client) -> None:
    noise = bytes(range(256)) * 8
    for answer in (
        api.post("/api/contacts/inspect", files={"file": ("leads.xlsx", noise)}),
        _create(api, content=noise, filename="leads.xlsx"),
    ):
        assert answer.status_code == 422, answer.text
        said = answer.json()["error"]
        assert said == "leads.xlsx: not an Excel workbook (it could not be opened as .xlsx)", said


def test_inspect_shows_the_samples_under_the_names_given(api: httpx.Client) -> None:
    files = {"file": ("leads.csv", CONTACTS)}
    seen = api.post("/api/contacts/inspect", files=files, data={"rename": ["name=first_name"]})
    assert seen.status_code == 200, seen.text
    assert seen.json()["samples"][0]["variables"] == {"first_name": "Ann"}
    assert {"name": "name", "used_as": "variable"} in seen.json()["columns"]
