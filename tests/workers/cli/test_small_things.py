"""The small things a user meets (issue 14 item 5), each as the user meets it: a folder given as
the contacts file, a busy port, a prompt with no terminal, the duplicate reject's detail, SIGHUP
to a worker."""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from dialer.simulator.config import DEFAULT_API_KEY
from tests.support import Stack, dialer_cli, dialer_env, dialer_exe, wait_until

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("command", ["run", "validate", "check"])
def test_a_folder_given_as_contacts_is_called_a_folder(tmp: Path, command: str) -> None:
    env = {"ONEINBOX_API_KEY": DEFAULT_API_KEY, "DIALER_STATE_DIR": str(tmp / "state")}
    args = [command, str(tmp), "--agent-id", "a", "--from-number", "+14155550100"]
    if command == "validate":
        args = [command, str(tmp)]
    done = dialer_cli(args, env, cwd=tmp)
    assert done.returncode == 2
    assert "is a folder" in done.stderr and "no such file" not in done.stderr


@pytest.mark.parametrize("command", ["simulator", "webhooks"])
def test_a_busy_port_is_one_line_and_no_banner(tmp: Path, redis_url: str, command: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = {"DIALER_REDIS_URL": redis_url}  # the receiver needs a Redis that answers
        done = dialer_cli([command, "--port", str(port)], env, cwd=tmp)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert "http://" not in done.stdout  # no "serving at" banner for a server that never served


def test_setup_credentials_without_a_terminal_says_which_variable_to_set(tmp: Path) -> None:
    env = {"ONEINBOX_API_KEY": DEFAULT_API_KEY, "ONEINBOX_BASE_URL": "http://127.0.0.1:1"}
    args = ["setup", "credentials", "--name", "c", "--provider", "twilio"]
    done = subprocess.run(
        [dialer_exe(), *args],
        env=dialer_env(env),
        cwd=tmp,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # no controlling terminal, as under cron
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "DIALER_CARRIER_API_KEY is not set" in done.stderr
    assert "GetPassWarning" not in done.stderr and "Traceback" not in done.stderr


def test_the_duplicate_rejects_detail_has_no_stray_quote(tmp: Path) -> None:
    (tmp / "c.csv").write_text("phone\n+14155550100\n+14155550100\n")
    done = dialer_cli(["validate", "c.csv"], {}, cwd=tmp)
    assert done.returncode == 1, done.stdout + done.stderr  # a row to fix
    with (tmp / "c.rejects.csv").open(encoding="utf-8-sig", newline="") as handle:
        (reject,) = list(csv.DictReader(handle))
    assert reject["reason"] == "duplicate"
    assert reject["detail"] == "same number as row 2 (+14155550100)"


@pytest.mark.integration
def test_sighup_stops_a_worker_without_a_traceback(stack: Stack) -> None:
    worker = stack.worker()
    stack.wait_ready(1)
    os.killpg(worker.process.pid, signal.SIGHUP)
    wait_until(lambda: worker.process.poll() is not None, 30, "the worker to stop")
    log = worker.log.read_text(encoding="utf-8")
    assert "Traceback" not in log and "Restarting celery worker" not in log
