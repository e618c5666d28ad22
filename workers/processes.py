"""The embedded stack's processes: a private redis-server and a Celery worker, for when no
DIALER_REDIS_URL is given (`workers/stack.py` starts them and opens the store on them).

The private Redis listens on 127.0.0.1 only, on a free port, with a random password, and keeps
its data (append-only file, fsynced before each write is acknowledged) under the state folder,
so a crashed run resumes where it stopped and a contact claimed before the crash stays claimed.
Its configuration, password included, goes to redis-server on standard input, never in argv.
While it runs, `<state>/redis.url` (mode 0600) lets other `dialer` commands find it.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import redis

from dialer.errors import ConfigError, StateError
from dialer.private import open_private, private_dir
from workers.queues import CELERY_APP, DIAL_QUEUE, FOLLOW_QUEUE

REDIS_START_TIMEOUT_S = 10.0
LOCK_WAIT_S = 10.0  # how long a command waits for another's hold of the state folder
WORKER_STOP_TIMEOUT_S = 30.0
SERVED_FILE = "serve.url"
_PR_SET_PDEATHSIG = 1
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)


def die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the `dialer` process that started us dies,
    so a killed `dialer run` never leaves a private Redis or worker behind."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str:
    """The path of redis-server, or a ConfigError that says how to get it."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if not found:
        raise ConfigError(
            "redis-server is not installed. Run ./dev setup (it installs Debian's redis-server), "
            "or `apt-get install redis-server`, or point DIALER_REDIS_URL at a Redis you run."
        )
    return found


def _redis_config(port: int, password: str, data_dir: Path) -> str:
    return "\n".join(
        [
            f"port {port}",
            "bind 127.0.0.1",
            "protected-mode yes",
            f"requirepass {password}",
            f'dir "{data_dir}"',
            "appendonly yes",
            "appendfsync always",  # a claim is on disk before its create is sent
            'save ""',
            "maxmemory-policy noeviction",
            "daemonize no",
            f'logfile "{data_dir / "redis.log"}"',
            "",
        ]
    )


@dataclass
class EmbeddedRedis:
    """A running private redis-server."""

    url: str
    process: subprocess.Popen[bytes]
    url_file: Path

    def stop(self) -> None:
        """Shut it down cleanly (the append-only file is flushed) and forget its address."""
        self.url_file.unlink(missing_ok=True)
        with contextlib.suppress(redis.RedisError):
            redis.Redis.from_url(self.url).shutdown(nosave=False)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _lock(state_dir: Path, wait_s: float = LOCK_WAIT_S) -> IO[str]:
    """Hold the state folder: one embedded Redis per folder at a time. Another command's hold
    is waited for `wait_s` seconds first: a `dialer status` typed while `dialer run` starts
    holds it for a second or two, and must not make the run fail."""
    handle = open_private(state_dir / "redis.lock", "a")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError as exc:
            if time.monotonic() >= deadline:
                handle.close()
                raise StateError(
                    f"another dialer command is using the embedded Redis in {state_dir}; "
                    "wait for it to finish, or use `dialer status` to watch it"
                ) from exc
        time.sleep(0.05)


def folder_held(state_dir: Path) -> bool:
    """True while another command holds the state folder's embedded Redis."""
    path = state_dir / "redis.lock"
    if not path.exists():
        return False
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def joined_url(state_dir: Path) -> str | None:
    """The URL of the embedded Redis another command runs on this folder, waiting for it while
    that command is still starting it (it holds the folder, its Redis does not answer yet);
    None when nobody holds the folder."""
    deadline = time.monotonic() + REDIS_START_TIMEOUT_S
    while True:
        url = running_url(state_dir)
        if url or not folder_held(state_dir) or time.monotonic() >= deadline:
            return url
        time.sleep(0.05)


def running_url(state_dir: Path) -> str | None:
    """The URL of the embedded Redis that another command started, if it is up."""
    return _live_url(state_dir / "redis.url")


def served_url(state_dir: Path) -> str | None:
    """The URL of the embedded Redis of a running `dialer serve`, whose worker serves every
    campaign submitted to it (so `dialer run` can submit there instead of starting its own)."""
    return _live_url(state_dir / SERVED_FILE)


@contextlib.contextmanager
def serving(state_dir: Path, url: str) -> Iterator[None]:
    """Announce, while the block runs, that this Redis has a long-lived worker behind it."""
    path = state_dir / SERVED_FILE
    _write_private(path, url)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _live_url(url_file: Path) -> str | None:
    if not url_file.exists():
        return None
    url = url_file.read_text().strip()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return None
    return url


@contextlib.contextmanager
def embedded_redis(state_dir: Path) -> Iterator[EmbeddedRedis]:
    """Start a private redis-server with its data under `state_dir`; stop it on exit."""
    data_dir = private_dir(state_dir / "redis")
    lock = _lock(state_dir)
    port, password = free_port(), secrets.token_urlsafe(24)
    # The state folder's lock is passed to redis-server too: it stays held while either lives.
    process = subprocess.Popen(
        [redis_server_binary(), "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(lock.fileno(),),
        preexec_fn=die_with_parent,
        start_new_session=True,  # a Ctrl-C at the terminal is for `dialer`, which stops it
    )
    assert process.stdin is not None
    process.stdin.write(_redis_config(port, password, data_dir).encode())
    process.stdin.close()
    url = f"redis://:{password}@127.0.0.1:{port}/0"
    server = EmbeddedRedis(url, process, state_dir / "redis.url")
    try:
        _wait_for_redis(url, process, data_dir)
        _write_private(server.url_file, url)
        yield server
    finally:
        server.stop()
        lock.close()


def _wait_for_redis(url: str, process: subprocess.Popen[bytes], data_dir: Path) -> None:
    deadline = time.monotonic() + REDIS_START_TIMEOUT_S
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StateError(f"redis-server stopped at start; see {data_dir / 'redis.log'}")
        with contextlib.suppress(redis.ConnectionError, redis.BusyLoadingError):
            client.ping()
            return
        time.sleep(0.05)
    process.kill()
    raise StateError(f"redis-server did not start in {REDIS_START_TIMEOUT_S:.0f} s")


def _write_private(path: Path, text: str) -> None:
    with open_private(path) as out:
        out.write(text)


def worker_command(concurrency: int, name: str | None = None) -> list[str]:
    """argv of a supervised Celery worker serving the dialer's queues (no secrets in it)."""
    celery = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        CELERY_APP,
        "worker",
        "-P",
        "threads",
        "-c",
        str(concurrency),
        "-Q",
        f"{DIAL_QUEUE},{FOLLOW_QUEUE}",
        "-n",
        name or f"dialer-{uuid.uuid4().hex[:8]}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "WARNING",
    ]
    return [sys.executable, "-m", "workers.supervise", *celery]


@contextlib.contextmanager
def embedded_worker(
    env: Mapping[str, str], log_path: Path, concurrency: int = 16
) -> Iterator[subprocess.Popen[bytes]]:
    """Run one Celery worker process with `env`; warm-stop it on exit."""
    private_dir(log_path.parent)
    with open_private(log_path, "ab") as log:
        process = subprocess.Popen(
            worker_command(concurrency),
            env={**os.environ, **env},
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
            start_new_session=True,  # a Ctrl-C at the terminal is for `dialer`, which stops it
        )
    try:
        yield process
    finally:
        stop_process(process, WORKER_STOP_TIMEOUT_S)


def stop_process(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM (a Celery warm shutdown), then SIGKILL if it does not end in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
