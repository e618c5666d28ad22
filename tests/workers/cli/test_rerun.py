"""Running a list again (issue 11): a list is one campaign, its contacts are its numbers, and an
edit adds only what is new. Real processes: `dialer run` as a subprocess, its redis-server and
worker (or a `DIALER_REDIS_URL` one), the simulator over HTTP."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from dialer.campaign import CampaignConfig, CampaignState, parse_rate
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import ContactState, Store
from dialer.store.keys import ready_key
from tests.support import Stack, campaign_args, cli_env, dialer_cli, sim_get

pytestmark = pytest.mark.integration

LIST = """\
phone,first_name
+14155550101,Ana
+14155550102,Ben
+14155550103,Chloe
"""
NEW_ROW = "+14155550104,Dee\n"
FINAL = {"completed", "voicemail", "no_answer", "failed"}


def _run(sim: RunningSimulator, tmp: Path, name: str = "list.csv", *extra: str, **env: str):  # type: ignore[no-untyped-def]
    args = campaign_args("run", name, "--rate", "20/s", *extra)
    return dialer_cli(args, cli_env(sim, tmp, **env), cwd=tmp)


def _results(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _creates(sim: RunningSimulator) -> list[str]:
    found = sim_get(sim.url, "creates")
    assert isinstance(found, list)
    return sorted(c["to_number"] for c in found)


@pytest.mark.timeout(180)
def test_a_row_added_to_a_list_is_the_only_one_dialled_when_it_runs_again(
    simulator: RunningSimulator, tmp: Path
) -> None:
    (tmp / "list.csv").write_text(LIST, encoding="utf-8")
    first = _run(simulator, tmp)
    assert first.returncode == 0, first.stdout + first.stderr
    before = {r["phone_e164"]: r["call_id"] for r in _results(tmp / "list.results.csv")}

    with (tmp / "list.csv").open("a", encoding="utf-8") as handle:
        handle.write(NEW_ROW)
    again = _run(simulator, tmp)
    assert again.returncode == 0, again.stdout + again.stderr
    numbers = ["+14155550101", "+14155550102", "+14155550103", "+14155550104"]
    assert _creates(simulator) == numbers, "each number dialled once"
    assert "added 1, kept 3" in again.stdout
    assert "list.csv: 4 contacts, 1 to dial (3 dialled or final), 0 rejected." in again.stdout
    rows = _results(tmp / "list.results.csv")
    assert sorted(r["phone_e164"] for r in rows) == numbers, "every contact in the results"
    assert all(r["status"] in FINAL for r in rows)
    assert {r["phone_e164"]: r["call_id"] for r in rows if r["phone_e164"] in before} == before
    assert next(r for r in rows if r["phone_e164"] == numbers[3])["source_row"] == "5"


@pytest.mark.timeout(180)
def test_a_list_saved_again_with_crlf_line_ends_dials_nobody_again(
    simulator: RunningSimulator, tmp: Path
) -> None:
    (tmp / "list.csv").write_text(LIST, encoding="utf-8")
    assert _run(simulator, tmp).returncode == 0
    (tmp / "list.csv").write_bytes(LIST.replace("\n", "\r\n").encode())
    again = _run(simulator, tmp)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(_creates(simulator)) == 3
    assert "is finished (3 contacts)" in again.stdout and "new --campaign name" in again.stdout
    assert len(_results(tmp / "list.results.csv")) == 3


@pytest.mark.timeout(180)
def test_a_campaign_name_given_with_another_list_is_refused(
    simulator: RunningSimulator, tmp: Path
) -> None:
    (tmp / "a.csv").write_text(LIST, encoding="utf-8")
    (tmp / "b.csv").write_text("phone,first_name\n+14155550199,Zed\n", encoding="utf-8")
    assert _run(simulator, tmp, "a.csv", "--campaign", "june").returncode == 0
    refused = _run(simulator, tmp, "b.csv", "--campaign", "june")
    assert refused.returncode != 0
    said = " ".join((refused.stdout + refused.stderr).split())
    assert "june" in said and "a.csv" in said, said
    assert "Traceback" not in said
    assert _creates(simulator) == ["+14155550101", "+14155550102", "+14155550103"]


def _submit(stack: Stack, tmp: Path, *extra: str):  # type: ignore[no-untyped-def]
    """`dialer run --detach` to the stack's Redis with dialling far in the future."""
    args = campaign_args("run", "list.csv", "--detach", "--no-preflight", *extra)
    env = {**stack.env, "DIALER_STATE_DIR": str(tmp / "state")}
    return dialer_cli(args, env, cwd=tmp)


@pytest.mark.timeout(120)
def test_a_pending_contact_whose_row_was_removed_is_canceled_not_dialled(
    stack: Stack, tmp_path: Path
) -> None:
    (tmp_path / "list.csv").write_text(LIST, encoding="utf-8")
    later = ("--start-at", "2099-01-01T09:00:00+00:00")
    first = _submit(stack, tmp_path, *later)
    assert first.returncode == 0, first.stdout + first.stderr
    (tmp_path / "list.csv").write_text(LIST.replace("+14155550102,Ben\n", ""), encoding="utf-8")
    again = _submit(stack, tmp_path, *later, "--rate", "2/s")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "removed 1" in again.stdout and "rate 20/s -> 2/s" not in again.stdout
    # The file's contacts, not every contact the campaign had (3, the removed one included).
    assert "list.csv: 2 contacts to dial, 0 rejected." in again.stdout
    store = stack.store
    (cid,) = store.campaign_ids()
    contacts = {c.phone: c for c in store.iter_contacts(cid)}
    gone = contacts["+14155550102"]
    assert gone.state is ContactState.CANCELED and gone.error == "no longer in the list"
    assert {c.state for p, c in contacts.items() if p != gone.phone} == {ContactState.PENDING}
    assert store.campaign(cid).rate_per_s == parse_rate("2/s")
    assert "rate 1/s -> 2/s" in again.stdout

    sooner = _submit(stack, tmp_path, "--start-at", "2000-01-01T00:00:00+00:00")
    assert "start-at 2099-01-01T09:00:00+00:00 -> 2000-01-01T00:00:00+00:00" in sooner.stdout
    now_ms = store.server_ms()
    due = {p: store.redis.zscore(ready_key(cid), str(c.member)) for p, c in contacts.items()}
    now = {p: d is not None and d <= now_ms for p, d in due.items()}
    assert now == {"+14155550101": True, "+14155550102": False, "+14155550103": True}


def _old_campaign(store: Store, tmp: Path) -> str:
    """A finished campaign of `list.csv` as today's version stores it: its id hashes the file's
    bytes, its source is the path as given, its contacts are keyed by source row."""
    data = (tmp / "list.csv").read_bytes()
    cid = f"list-{hashlib.sha256(data).hexdigest()[:8]}"
    config = CampaignConfig(
        campaign_id=cid,
        agent_id=DEFAULT_AGENT_ID,
        from_number=DEFAULT_FROM_NUMBER,
        columns=("phone", "first_name"),
        variable_columns=("first_name",),
        source="list.csv",
        window="always",
    )
    key = f"dialer:camp:{cid}"
    client = store.redis
    client.hset(key, mapping={"config": config.model_dump_json(), "state": "done"})
    client.hset(key, mapping={"total": 3, "last_row": 3})
    client.sadd("dialer:campaigns", cid)
    for row, line in enumerate(LIST.splitlines()[1:], start=1):
        phone, name = line.split(",")
        client.hset(
            f"{key}:c:{row}",
            mapping={"state": "completed", "phone": phone, "row": f'["{phone}", "{name}"]'},
        )
    client.hset(f"{key}:counts", "completed", 3)
    return cid


@pytest.mark.timeout(180)
def test_a_campaign_stored_by_the_previous_version_resumes_after_the_upgrade(
    stack: Stack, sim: RunningSimulator, tmp_path: Path
) -> None:
    (tmp_path / "list.csv").write_text(LIST, encoding="utf-8")
    cid = _old_campaign(stack.store, tmp_path)
    with (tmp_path / "list.csv").open("a", encoding="utf-8") as handle:
        handle.write(NEW_ROW)
    stack.worker()
    stack.wait_ready(1)
    args = campaign_args("run", "list.csv", "--rate", "20/s", "--no-preflight")
    env = {**stack.env, "DIALER_STATE_DIR": str(tmp_path / "state")}
    done = dialer_cli(args, env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert cid in done.stdout and "added 1, kept 3" in done.stdout
    assert _creates(sim) == ["+14155550104"], "only the new number"
    assert stack.store.campaign_ids() == [cid]
    assert stack.store.campaign_state(cid) is CampaignState.DONE
    rows = _results(tmp_path / "list.results.csv")
    assert [(r["source_row"], r["phone_e164"]) for r in rows] == [
        ("2", "+14155550101"),
        ("3", "+14155550102"),
        ("4", "+14155550103"),
        ("5", "+14155550104"),
    ]
