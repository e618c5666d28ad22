"""Real processes for tests: a redis-server we can restart, and worker processes we can kill."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import httpx
import redis

from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import Store
from workers.processes import (
    folder_held,
    free_port,
    redis_server_binary,
    running_url,
    worker_command,
)

ROOT = Path(__file__).resolve().parent.parent


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.05) -> None:
    """Poll `check` until it is true; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@contextlib.contextmanager
def scripts_held(client: redis.Redis, *, expect: int, timeout: float = 10) -> Iterator[None]:
    """Hold every script at the Redis server until `expect` of them wait there together, then
    let them all go: they run back to back, each against the state the previous one left.

    Reads still pass (a caller reads, then reaches its script). The body starts the callers;
    the hold ends once `expect` scripts are queued (or fails the test after `timeout`).
    """
    client.execute_command("CLIENT", "PAUSE", round(timeout * 1000) + 5000, "WRITE")
    try:
        yield
        wait_until(
            lambda: held_scripts(client) >= expect, timeout, f"{expect} scripts at Redis at once"
        )
    finally:
        client.execute_command("CLIENT", "UNPAUSE")


def held_scripts(client: redis.Redis) -> int:
    """Scripts sent and waiting at the server for a pause to end."""
    return sum(
        1
        for c in client.client_list()
        if c.get("cmd") in ("evalsha", "eval") and "b" in c.get("flags", "")
    )


class RedisServer:
    """A redis-server on a fixed port with its data in `data_dir` (append-only, like production)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, replica_of: int | None = None) -> None:
        """Start it; `replica_of`: the port of a primary it replicates from its first moment."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = (
            f"port {self.port}\nbind 127.0.0.1\ndir {self.data_dir}\nappendonly yes\n"
            'appendfsync always\nsave ""\nmaxmemory-policy noeviction\n'
        )
        if replica_of is not None:
            config += f"replicaof 127.0.0.1 {replica_of}\n"
        self.process = subprocess.Popen(
            [redis_server_binary(), "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert self.process.stdin is not None
        self.process.stdin.write(config.encode())
        self.process.stdin.close()
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)

        def up() -> bool:
            try:
                return bool(client.ping())
            except (redis.ConnectionError, redis.BusyLoadingError):
                return False

        wait_until(up, 10, "redis-server to start")

    def stop(self) -> None:
        """SIGTERM (a stopped server is continued first); SIGKILL if it is not gone in 10 s
        (a busy machine, or a master waiting for a replica that no longer answers)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, decode_responses=True)


class Worker:
    """A real `celery worker` process serving the dialer's queues."""

    def __init__(self, env: Mapping[str, str], log: Path, concurrency: int = 8) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                worker_command(concurrency),
                env={**os.environ, **env},
                stdout=out,
                stderr=out,
                cwd=ROOT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def sim_get(url: str, path: str) -> object:
    """GET one of the simulator's `/_sim` admin endpoints."""
    return httpx.get(f"{url}/_sim/{path}", timeout=5).json()


def dialer_env(env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without our settings, plus `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ONEINBOX_", "DIALER_"))}
    return {**clean, **env}


def dialer_exe() -> str:
    """The `dialer` console script of this environment."""
    return str(Path(sys.executable).with_name("dialer"))


def dialer_cli(args: list[str], env: Mapping[str, str], cwd: Path, timeout: float = 90):  # type: ignore[no-untyped-def]
    """Run the `dialer` console script as a user would."""
    exe = Path(sys.executable).with_name("dialer")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ONEINBOX_", "DIALER_"))}
    return subprocess.run(
        [str(exe), *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextlib.contextmanager
def serve_in_thread(app: object) -> Iterator[str]:
    """Serve an ASGI app on a free loopback port for the test; yields its base URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the test server to start", every=0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


WORKER_TIMING = (
    "lease_s=20,stuck_s=2,requeue_s=3,follow_lease_s=2,reconcile_grace_s=2,"
    "reconcile_limit_s=30,post_call_wait_s=2,poll_scale=0.1"
)


class Stack:
    """Workers for one test; all killed at the end."""

    def __init__(self, redis_srv: RedisServer, sim: RunningSimulator, tmp: Path) -> None:
        self.env = {
            "DIALER_REDIS_URL": redis_srv.url,
            "ONEINBOX_API_KEY": DEFAULT_API_KEY,
            "ONEINBOX_BASE_URL": sim.url,
            "DIALER_TIMING": WORKER_TIMING,
            "DIALER_READ_TIMEOUT": "1.5",
        }
        self.tmp = tmp
        self.workers: list[Worker] = []
        self.store = Store.from_url(redis_srv.url)

    def worker(self, concurrency: int = 8) -> Worker:
        worker = Worker(self.env, self.tmp / f"worker-{len(self.workers)}.log", concurrency)
        self.workers.append(worker)
        return worker

    def wait_ready(self, count: int) -> None:
        """Wait until `count` workers answer a ping."""
        from workers.celery_app import make_app

        control = make_app(self.env["DIALER_REDIS_URL"]).control
        wait_until(lambda: len(control.ping(timeout=0.5) or []) >= count, 30, "workers")

    def close(self) -> None:
        for worker in self.workers:
            worker.kill()
        self.store.redis.close()


def cli_env(sim: RunningSimulator, tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a `dialer` command against `sim`, its state under `tmp`."""
    return {
        "ONEINBOX_API_KEY": DEFAULT_API_KEY,
        "ONEINBOX_BASE_URL": sim.url,
        "DIALER_STATE_DIR": str(tmp / "state"),
        "DIALER_TIMING": "poll_scale=0.2,post_call_wait_s=3,stuck_s=3,reconcile_grace_s=3",
        **extra,
    }


def campaign_args(command: str, contacts: str, *extra: str) -> list[str]:
    """`dialer COMMAND CONTACTS` with the simulator's agent and number, no calling window."""
    return [
        command,
        contacts,
        "--agent-id",
        DEFAULT_AGENT_ID,
        "--from-number",
        DEFAULT_FROM_NUMBER,
        "--window",
        "always",
        *extra,
    ]


class DialerProcess:
    """A `dialer` command started in its own process group (as a terminal runs it), so that a
    test can send it what Ctrl-C sends: SIGINT to the whole group. Output goes to files."""

    def __init__(self, args: list[str], env: Mapping[str, str], cwd: Path) -> None:
        self.out = cwd / f"dialer-{time.monotonic_ns()}.out"
        self.err = self.out.with_suffix(".err")
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(
                [dialer_exe(), *args],
                env=dialer_env(env),
                cwd=cwd,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def signal_group(self, signum: int) -> None:
        """What the terminal does on Ctrl-C (SIGINT) or what `kill` does (any signal)."""
        os.killpg(self.process.pid, signum)

    def wait(self, timeout: float = 60) -> int:
        """Its exit code, once it has ended."""
        return self.process.wait(timeout=timeout)

    def wait_for_stack(self, state_dir: Path, timeout: float = 60) -> None:
        """Wait until this command's embedded Redis answers. Another command started before
        then (`dialer status`) would start a Redis of its own in the state folder, and this one
        would find the folder taken; so would a busy machine make a test fail by its order."""

        def up() -> bool:
            if self.process.poll() is not None:
                said = self.stdout + self.stderr
                raise AssertionError(f"dialer ended ({self.process.returncode}) first: {said}")
            return running_url(state_dir) is not None

        wait_until(up, timeout, "the command's embedded Redis to answer", every=0.1)

    def kill_all(self, timeout: float = 60) -> None:
        """kill -9 of `dialer` alone, as a crash does; then wait until the processes it started
        (its Redis, its worker finishing its tasks) have ended too."""
        started = descendants(self.process.pid)
        self.process.kill()
        self.process.wait(timeout=timeout)
        wait_until(
            lambda: not any(Path(f"/proc/{pid}").exists() for pid in started),
            timeout,
            "the killed run's processes to end",
        )

    @property
    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8")

    @property
    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8")


def creates_to(url: str, numbers: set[str] | None = None) -> list[str]:
    """The numbers the simulator has been asked to call, in order (only `numbers` if given)."""
    creates = sim_get(url, "creates")
    assert isinstance(creates, list)
    return [c["to_number"] for c in creates if numbers is None or c["to_number"] in numbers]


def state_folder_free(state_dir: Path) -> bool:
    """True once no embedded Redis holds the state folder (a killed run's stack has ended)."""
    return not folder_held(state_dir)


def descendants(pid: int) -> set[int]:
    """The processes `pid` started, and theirs (Linux /proc)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            with contextlib.suppress(OSError):
                children = {int(c) for c in (task / "children").read_text().split()}
                todo += children - found
                found |= children
    return found
