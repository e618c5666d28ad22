"""Personal data on disk is the user's only: results, rejects, exports, reports, logs and the
state folder are created 0600/0700 whatever the umask; processes holding the key dump no core;
a results header that is a formula is neutralised like a cell."""

from __future__ import annotations

import csv
import os
import stat
import subprocess
from pathlib import Path

import pytest

from campaigns.results import write_results
from dialer.private import open_private, private_dir
from dialer.simulator.server import RunningSimulator
from dialer.store import ContactRecord
from tests.support import Stack, campaign_args, cli_env, dialer_env, dialer_exe, wait_until

CONTACTS = """\
Phone Number,=HYPERLINK("http://x"),@cmd
(415) 555-0101,Ana,a
not a phone,Ben,b
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def dialer(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The `dialer` command run with the common umask 022 (files would be 0644 by default)."""
    return subprocess.run(
        [dialer_exe(), *args],
        env=dialer_env(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=90,
        umask=0o022,
    )


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_what_a_run_writes_is_readable_by_its_owner_only(
    simulator: RunningSimulator, tmp: Path
) -> None:
    (tmp / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    (tmp / "contacts.rejects.csv").write_text("left by an older version\n")
    (tmp / "contacts.rejects.csv").chmod(0o644)
    env = cli_env(simulator, tmp)
    args = campaign_args("run", "contacts.csv", "--rate", "20/s", "--results", "out/r.csv")
    done = dialer(args, env, tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    state = tmp / "state"
    for folder in (tmp / "out", state, state / "logs", state / "redis"):
        assert mode(folder) == 0o700, folder
    logs = list((state / "logs").iterdir())
    assert logs
    for file in (tmp / "out" / "r.csv", tmp / "contacts.rejects.csv", *logs):
        assert mode(file) == 0o600, file
    assert dialer(["report", "out/r.csv", "-o", "rep/r.html"], env, tmp).returncode == 0
    assert mode(tmp / "rep") == 0o700 and mode(tmp / "rep" / "r.html") == 0o600
    done = dialer(["validate", "contacts.csv", "--rejects", "v.csv"], env, tmp)
    assert mode(tmp / "v.csv") == 0o600, done.stdout + done.stderr


def test_a_formula_in_the_header_is_neutralised(tmp: Path) -> None:
    (tmp / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    stored = {"row": '["+14155550101", "Ana", "a"]', "state": "completed", "phone": "+14155550101"}
    columns = ["Phone Number", '=HYPERLINK("http://x")', "@cmd"]
    write_results(tmp / "r.csv", columns, [ContactRecord.from_redis(1, stored)])
    with (tmp / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    assert header[:3] == ["Phone Number", '\'=HYPERLINK("http://x")', "'@cmd"]


def test_exports_and_private_files_ignore_a_permissive_umask(tmp: Path) -> None:
    old = os.umask(0o000)
    try:
        write_results(tmp / "new" / "deeper" / "r.csv", ["p"], [])
        with open_private(tmp / "log", "ab") as log:
            log.write(b"x")
        private_dir(tmp / "a" / "b")
    finally:
        os.umask(old)
    assert mode(tmp / "new") == mode(tmp / "new" / "deeper") == 0o700
    assert mode(tmp / "new" / "deeper" / "r.csv") == 0o600 and mode(tmp / "log") == 0o600
    assert mode(tmp / "a") == mode(tmp / "a" / "b") == 0o700


def _limits(pid: int) -> tuple[str, str]:
    """(core file size limit, umask) of a running process."""
    core = next(
        line for line in Path(f"/proc/{pid}/limits").read_text().splitlines()
        if line.startswith("Max core file size")
    )  # fmt: skip
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return core.split()[4], status["Umask"].strip()


@pytest.mark.integration
def test_processes_holding_the_key_dump_no_core_and_create_private_files(
    stack: Stack, redis_url: str, tmp: Path
) -> None:
    worker = stack.worker()
    wait_until(lambda: _limits(worker.process.pid) == ("0", "0077"), 30, "the worker's limits")
    receiver = subprocess.Popen(
        [dialer_exe(), "webhooks", "--port", "0"],
        env=dialer_env({"DIALER_REDIS_URL": redis_url}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _limits(receiver.pid) == ("0", "0077"), 30, "the receiver's limits")
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
