"""`dialer run` as a user runs it: a subprocess, a private redis-server, a real worker, the
simulator over HTTP. The results file is checked row by row against what the simulator saw."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import httpx
import pytest

from campaigns.model import RESULT_COLUMNS
from dialer.simulator.config import DEFAULT_API_KEY
from dialer.simulator.server import RunningSimulator
from tests.support import campaign_args, cli_env, dialer_cli, sim_get

pytestmark = pytest.mark.integration

CONTACTS = """\
Phone Number,first_name,order_id,notes
(415) 555-0101,Ana,A-1,"likes, commas"
+1 212 555 0102,Ben,A-2,=HYPERLINK("http://x")
415.555.0103,Chloé,A-3,
not a phone,Dev,A-4,
+14155550101,Emma,A-5,duplicate of row 1
"""

FINAL = {"completed", "voicemail", "no_answer", "failed"}


def _run(sim: RunningSimulator, tmp: Path, *extra: str):  # type: ignore[no-untyped-def]
    args = campaign_args("run", "contacts.csv", "--rate", "20/s", *extra)
    return dialer_cli(args, cli_env(sim, tmp), cwd=tmp)


def _results(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.timeout(120)
def test_run_dials_each_valid_contact_once_and_writes_every_row(
    simulator: RunningSimulator, tmp: Path
) -> None:
    (tmp / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    done = _run(simulator, tmp)
    assert done.returncode == 0, done.stdout + done.stderr

    rows = _results(tmp / "contacts.results.csv")
    header = list(rows[0])
    ours = ["Phone Number", "first_name", "order_id", "notes", *RESULT_COLUMNS]
    assert header[: len(ours)] == ours  # then a column per field of the calls' analysis
    assert all(c.startswith("analysis.") for c in header[len(ours) :])
    assert [r["source_row"] for r in rows] == ["2", "3", "4"]
    assert [r["phone_e164"] for r in rows] == ["+14155550101", "+12125550102", "+14155550103"]
    assert [r["first_name"] for r in rows] == ["Ana", "Ben", "Chloé"]
    assert rows[0]["notes"] == "likes, commas"
    assert rows[1]["notes"].startswith("'="), "a formula must be neutralised"

    creates = sim_get(simulator.url, "creates")
    assert isinstance(creates, list)
    assert sorted(c["to_number"] for c in creates) == sorted(r["phone_e164"] for r in rows)
    for member, row in enumerate(rows, 1):
        assert row["status"] in FINAL
        assert row["attempts"] == "1"
        call = httpx.get(
            f"{simulator.url}/v1/calls/{row['call_id']}",
            headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
        ).json()
        assert call["to_number"] == row["phone_e164"]
        assert call["status"] == row["call_status"]
        assert call["variables"]["first_name"] == row["first_name"]
        # The contact's id in the campaign (its store member), which never follows a row.
        assert call["metadata"]["dialer_row"] == str(member)
        assert "Phone Number" not in call["variables"]

    rejects = _results(tmp / "contacts.rejects.csv")
    assert [(r["source_row"], r["reason"]) for r in rejects] == [
        ("5", "not_a_number"),
        ("6", "duplicate"),
    ]
    assert DEFAULT_API_KEY not in done.stdout + done.stderr


@pytest.mark.timeout(120)
def test_rerun_of_a_finished_campaign_dials_nobody_again(
    simulator: RunningSimulator, tmp: Path
) -> None:
    (tmp / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    assert _run(simulator, tmp).returncode == 0
    again = _run(simulator, tmp)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "is finished (3 contacts)" in again.stdout
    assert len(sim_get(simulator.url, "creates")) == 3  # type: ignore[arg-type]


@pytest.mark.timeout(60)
def test_bad_key_stops_the_run_with_a_message_about_the_key(
    simulator: RunningSimulator, tmp: Path
) -> None:
    (tmp / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    env = cli_env(simulator, tmp, ONEINBOX_API_KEY="oi_sk_wrong")
    args = campaign_args("run", "contacts.csv", "--rate", "20/s")
    done = dialer_cli(args, env, cwd=tmp)
    assert done.returncode != 0
    assert "API key" in done.stdout + done.stderr
    assert "oi_sk_wrong" not in done.stdout + done.stderr
    refused = [c for c in sim_get(simulator.url, "creates") if c["call_id"]]  # type: ignore[union-attr]
    assert refused == []


@pytest.mark.timeout(30)
def test_unreadable_file_refuses_to_start(simulator: RunningSimulator, tmp: Path) -> None:
    (tmp / "contacts.csv").write_bytes(b"%PDF-1.7\n\x00\x01\x02binary")
    done = _run(simulator, tmp)
    assert done.returncode != 0
    assert "contacts.csv" in done.stderr
    assert "Traceback" not in done.stderr
    assert sim_get(simulator.url, "creates") == []


READ_HOOK = """\
import os
from campaigns import contacts, resuming

def _count(what):
    with open(os.environ["DIALER_TEST_READS"], "a", encoding="utf-8") as log:
        log.write(what + "\\n")

_open, _batches, _identify = contacts.open_contacts, contacts.ContactFile.batches, resuming.identify

def open_contacts(*args, **kwargs):
    _count("open")
    return _open(*args, **kwargs)

def batches(self):
    _count("pass")
    yield from _batches(self)

def identify(*args, **kwargs):
    _count("identify")
    return _identify(*args, **kwargs)

contacts.open_contacts = open_contacts
contacts.ContactFile.batches = batches
resuming.identify = identify
"""


@pytest.mark.timeout(120)
def test_a_run_reads_its_list_once_preflight_included(
    simulator: RunningSimulator, tmp: Path
) -> None:
    """The preflight's counts come from the pass that loads the list: one open, one pass; and
    which campaign the list is is asked once."""
    hook = tmp / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(READ_HOOK, encoding="utf-8")
    (tmp / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    reads = tmp / "reads.log"
    path = os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")]))
    env = {**cli_env(simulator, tmp), "PYTHONPATH": path, "DIALER_TEST_READS": str(reads)}
    done = dialer_cli(campaign_args("run", "contacts.csv", "--rate", "20/s"), env, cwd=tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Preflight" in done.stdout and "quota" in done.stdout, "the preflight ran"
    assert reads.read_text(encoding="utf-8").split() == ["open", "identify", "pass"]
