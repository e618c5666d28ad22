"""`dialer serve` as a user runs it: a real server process with its embedded Redis, worker and
scheduler, the simulator over HTTP, and the API driven over HTTP from start to finish."""

from __future__ import annotations

import csv
import fcntl
import io
import json
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from campaigns.reselect import retry_id
from dialer.simulator.config import (
    DEFAULT_AGENT_ID,
    DEFAULT_API_KEY,
    DEFAULT_FROM_NUMBER,
    SimulatorConfig,
)
from dialer.simulator.server import RunningSimulator, start_in_thread
from tests.support import campaign_args, cli_env, dialer_cli, dialer_env, dialer_exe, wait_until
from workers.processes import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

TOKEN = "serve-test-token-5f1c2a9e"
CONTACTS = """\
Phone Number,first_name,order_id,notes
(415) 555-0101,Ana,A-1,"likes, commas"
+1 212 555 0102,Ben,A-2,=HYPERLINK("http://x")
415.555.0103,Chloé,A-3,
not a phone,Dev,A-4,
+14155550101,Emma,A-5,duplicate of row 1
"""
FINAL = {"completed", "voicemail", "no_answer", "failed"}


@dataclass
class Served:
    """The running server: its URL, folders and output, and the simulator behind it."""

    url: str
    tmp: Path
    sim: RunningSimulator
    out: Path
    err: Path
    process: subprocess.Popen[bytes]

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    @property
    def state(self) -> Path:
        return self.tmp / "state"

    def env(self) -> dict[str, str]:
        return cli_env(self.sim, self.tmp)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("serve")
    with start_in_thread(SimulatorConfig(speed=200.0, seed=7)) as sim:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = cli_env(sim, tmp, DIALER_WEB_TOKEN=TOKEN, DIALER_PUBLIC_URL=url)
        out, err = tmp / "serve.out", tmp / "serve.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [dialer_exe(), "serve", "--port", str(port)],
                env=dialer_env(env), cwd=tmp, stdout=stdout, stderr=stderr,
            )  # fmt: skip
        running = Served(url, tmp, sim, out, err, process)
        try:
            wait_until(lambda: _up(url), 60, "the server to answer")
            yield running
        finally:
            process.terminate()
            process.wait(timeout=60)
    # The embedded stack ends with the server: the state folder is free again.
    assert _folder_free(tmp / "state"), "the server left its Redis or worker running"


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _folder_free(state: Path) -> bool:
    with (state / "redis.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def _create(api: httpx.Client, name: str, content: str, **form: str) -> dict[str, Any]:
    fields = {
        "agent_id": DEFAULT_AGENT_ID,
        "from_number": DEFAULT_FROM_NUMBER,
        "window": "always",
        **form,
    }
    answer = api.post("/api/campaigns", files={"file": (name, content.encode())}, data=fields)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _events(api: httpx.Client, cid: str) -> list[tuple[str, dict[str, Any]]]:
    """Every server-sent event of the campaign until the stream ends."""
    found = []
    with api.stream("GET", f"/api/campaigns/{cid}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        kind = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                found.append((kind, json.loads(line.removeprefix("data: "))))
    return found


def _contacts(n: int, start: int) -> str:
    return "phone,name\n" + "".join(f"+1415555{start + i:04d},person {i}\n" for i in range(n))


def test_a_campaign_runs_to_done_and_its_results_are_those_dialer_run_writes(
    served: Served,
) -> None:
    with served.client() as api:
        created = _create(api, "contacts.csv", CONTACTS, rate="20/s")
        cid = created["id"]
        assert created["total"] == 3 and created["state"] == "running"
        events = _events(api, cid)
        assert events[-1][0] == "done"
        assert [kind for kind, _ in events[:-1]] == ["progress"] * (len(events) - 1)
        last = events[-1][1]
        assert last["state"] == "done" and last["done"] == 3
        assert set(last["counts"]) <= FINAL
        downloaded = api.get(f"/api/campaigns/{cid}/results.csv")
        assert downloaded.status_code == 200
        assert downloaded.headers["content-type"].startswith("text/csv")

        # `dialer run` of the same list (the campaign's copy of its upload: a list is its
        # path), while the server runs, uses the server's stack: it finds the campaign
        # finished, dials nobody, and writes the very same file.
        uploaded = str(served.state / "uploads" / cid / "contacts.csv")
        results = ("--results", "contacts.results.csv")
        args = campaign_args("run", uploaded, "--rate", "20/s", *results)
        run = dialer_cli(args, served.env(), cwd=served.tmp)
        assert run.returncode == 0, run.stdout + run.stderr
        assert cid in run.stdout and "is finished (3 contacts)" in run.stdout
        assert (served.tmp / "contacts.results.csv").read_bytes() == downloaded.content
        rows = list(csv.DictReader(io.StringIO(downloaded.content.decode("utf-8-sig"))))
        assert [r["first_name"] for r in rows] == ["Ana", "Ben", "Chloé"]
        creates = httpx.get(f"{served.sim.url}/_sim/creates").json()
        assert sorted(c["to_number"] for c in creates if c["call_id"]) == sorted(
            r["phone_e164"] for r in rows
        )

        (served.tmp / "later.csv").write_text(_contacts(2, 5000), encoding="utf-8")
        args = campaign_args("run", "later.csv", "--detach", "--campaign", "later")
        detached = dialer_cli(args, served.env(), cwd=served.tmp)
        assert detached.returncode == 0, detached.stdout + detached.stderr
        assert api.get("/api/campaigns/later").json()["total"] == 2
        assert _events(api, "later")[-1][1]["state"] == "done", "the server's worker dialled it"

        # OneInbox's webhooks reached the server's route, outside the token.
        logs = served.err.read_text()
        assert '"POST /webhooks/oneinbox' in logs and "dialer.webhooks webhook" in logs

        status = dialer_cli(["status", cid], served.env(), cwd=served.tmp)
        assert status.returncode == 0 and "done" in status.stdout, status.stderr

        _check_xlsx(api.get(f"/api/campaigns/{cid}/results.xlsx"), rows)
        report = api.get(f"/api/campaigns/{cid}/report.html")
        assert report.status_code == 200 and "<svg" in report.text
        assert report.headers["content-security-policy"].startswith("default-src 'none'")
        assert 'id="chart-outcomes"' in report.text and 'id="chart-statuses"' in report.text
        with httpx.Client(base_url=served.url, timeout=60) as browser:  # the page: the same charts
            browser.post("/login", data={"token": TOKEN})
            page = browser.get(f"/campaigns/{cid}")
        assert page.status_code == 200
        for chart in ("chart-outcomes", "chart-outcomes-by-attempt", "chart-statuses"):
            assert f'id="{chart}"' in page.text, chart
        assert DEFAULT_API_KEY not in downloaded.text + report.text + json.dumps(last)


def _check_xlsx(answer: httpx.Response, rows: list[dict[str, str]]) -> None:
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.content), read_only=True)
    cells = [list(row) for row in book.active.iter_rows()]
    book.close()
    assert all(c.data_type == "s" for row in cells for c in row if c.value is not None)
    values = [[c.value or "" for c in row] for row in cells]
    assert values[1:] == [list(r.values()) for r in rows]


def test_pause_resume_cancel_retry_and_delete(served: Served) -> None:
    with served.client() as api:
        # One create an hour: the first at once, the other 11 (and the retry's) are still due
        # when it is cancelled, however long each request takes on a busy machine.
        cid = _create(api, "slow.csv", _contacts(12, 3000), rate="1/h")["id"]
        paused = api.post(f"/api/campaigns/{cid}/pause")
        assert paused.status_code == 200 and paused.json()["state"] == "paused"
        assert api.post(f"/api/campaigns/{cid}/pause").status_code == 409
        assert api.post(f"/api/campaigns/{cid}/resume").json()["state"] == "running"
        refused = api.delete(f"/api/campaigns/{cid}")
        assert refused.status_code == 409 and "running" in refused.json()["error"]

        canceled = api.post(f"/api/campaigns/{cid}/cancel")
        assert canceled.status_code == 200 and canceled.json()["canceled_contacts"] > 0
        assert api.get(f"/api/campaigns/{cid}").json()["state"] == "canceled"
        assert api.post(f"/api/campaigns/{cid}/resume").status_code == 409

        retried = api.post(f"/api/campaigns/{cid}/retry", data={"statuses": "canceled"})
        assert retried.status_code == 201, retried.text
        again = retried.json()
        assert again["total"] == canceled.json()["canceled_contacts"]
        stopped = api.post(f"/api/campaigns/{again['id']}/cancel")
        assert stopped.status_code == 200, stopped.text
        twice = api.post(f"/api/campaigns/{cid}/retry", data={"statuses": "canceled"})
        assert twice.status_code == 201, twice.text  # the same retry asked again resumes it:
        assert twice.json()["id"] == again["id"]  # nobody in it is dialled a second time
        assert twice.json()["total"] == again["total"]
        # ...whenever it is asked: the id comes from the campaign and the statuses, not a clock
        stable = retry_id(served.state / "files" / cid / "results.csv", ["canceled"], stem=cid)
        assert again["id"] == stable
        # Resumed with nobody left to dial (its contacts were cancelled), it may finish before
        # the cancel arrives on a busy machine: either way it has ended.
        ended = api.post(f"/api/campaigns/{again['id']}/cancel")
        state = api.get(f"/api/campaigns/{again['id']}").json()["state"]
        assert ended.status_code == 200 or state in {"done", "canceled"}, ended.text
        bad = api.post(f"/api/campaigns/{cid}/retry", data={"statuses": "maybe"})
        assert bad.status_code == 422 and bad.json()["field"] == "statuses"

        for each in (cid, again["id"]):
            wait_until(lambda c=each: _idle(api, c), 60, f"{each}'s calls to end", every=0.3)
            assert api.delete(f"/api/campaigns/{each}").status_code == 204
            assert api.get(f"/api/campaigns/{each}").status_code == 404
            assert not (served.state / "files" / each).exists()
        assert not (served.state / "uploads" / cid).exists()
        assert not (served.state / "uploads" / f"{again['id']}.csv").exists()
        assert cid not in [c["id"] for c in api.get("/api/campaigns").json()]


def _idle(api: httpx.Client, cid: str) -> bool:
    return int(api.get(f"/api/campaigns/{cid}").json()["pace"]["in_progress"]) == 0


def test_schedules_add_list_run_now_remove(served: Served) -> None:
    with served.client() as api:
        fields = {
            "name": "daily",
            "cron": "0 10 * * mon-fri",
            "tz": "Europe/Paris",
            "agent_id": DEFAULT_AGENT_ID,
            "from_number": DEFAULT_FROM_NUMBER,
            "window": "always",
        }
        files = {"file": ("daily.csv", _contacts(2, 4000).encode())}
        added = api.post("/api/schedules", data=fields, files=files)
        assert added.status_code == 201, added.text
        runs = added.json()["next_runs"]
        assert len(runs) == 5 and all("T08:00:00" in r or "T09:00:00" in r for r in runs)
        assert [s["name"] for s in api.get("/api/schedules").json()] == ["daily"]
        listed = dialer_cli(["schedule", "list"], served.env(), cwd=served.tmp)
        assert listed.returncode == 0 and "daily" in listed.stdout, listed.stderr

        started = api.post("/api/schedules/daily/run")
        assert started.status_code == 201, started.text
        cid = started.json()["campaign"]
        assert api.get(f"/api/campaigns/{cid}").json()["total"] == 2
        assert api.post("/api/schedules/daily/run").status_code == 409, "one run a minute"
        bad = api.post("/api/schedules", data={**fields, "rate": "fast"}, files=files)
        assert bad.status_code == 422 and bad.json()["field"] == "rate", bad.text
        assert api.delete("/api/schedules/daily").status_code == 204
        assert api.get("/api/schedules").json() == []
        assert api.delete("/api/schedules/daily").status_code == 404


def test_the_token_and_the_key_never_reach_a_log_line(served: Served) -> None:
    with served.client() as api:
        assert api.get("/api/campaigns", params={"token": TOKEN}).status_code == 200
        assert api.get(f"/api/campaigns/{TOKEN}").status_code == 404
    in_url = httpx.get(f"{served.url}/login", params={"token": TOKEN}, follow_redirects=False)
    assert in_url.status_code == 200 and "set-cookie" not in in_url.headers  # no login by URL
    by_post = httpx.post(f"{served.url}/login", data={"token": TOKEN}, follow_redirects=False)
    assert by_post.status_code == 303 and "dialer_session=" in by_post.headers["set-cookie"]
    assert by_post.headers["location"] == "/"
    logs = served.err.read_text() + served.out.read_text()
    assert '"GET /api/campaigns?[query] HTTP/1.1" 200' in logs, logs[-2000:]
    assert '"GET /login?[query] HTTP/1.1" 200' in logs and '"POST /login HTTP/1.1" 303' in logs
    assert TOKEN not in logs
    assert DEFAULT_API_KEY not in logs


def test_a_generated_token_is_kept_in_a_private_file_and_a_public_host_gets_a_warning(
    tmp_path: Path, simulator: RunningSimulator
) -> None:
    port = free_port()
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [dialer_exe(), "serve", "--host", "0.0.0.0", "--port", str(port)],
            env=dialer_env(cli_env(simulator, tmp_path)), cwd=tmp_path,
            stdout=stdout, stderr=stderr,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _up(url), 60, "the server to answer")
        printed = " ".join(out.read_text().split())
        assert "put TLS in front" in printed
        kept = tmp_path / "state" / "web-token"
        assert f"the one in {kept}" in printed  # stdout is a file here, not a terminal
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        token = kept.read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{url}/api/campaigns", headers=headers).status_code == 200
        assert httpx.get(f"{url}/api/campaigns").status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert token not in out.read_text() and token not in err.read_text()
