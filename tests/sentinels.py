"""A Redis Sentinel deployment of real processes on loopback ports: one primary, two replicas,
three sentinels (Debian's `redis-server --sentinel`), with short timeouts so a failover takes
seconds. Tests kill, stop and restart its members."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import redis

from tests.support import RedisServer, wait_until
from workers.processes import free_port, redis_server_binary

MASTER = "mymaster"
DOWN_AFTER_MS = 1000  # a primary silent this long is subjectively down
FAILOVER_TIMEOUT_MS = 3000


class SentinelProcess:
    """One sentinel: `redis-server sentinel.conf --sentinel` (it rewrites its own file)."""

    def __init__(self, folder: Path, primary_port: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.conf = folder / "sentinel.conf"
        self.conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {folder}\n"
            f"sentinel monitor {MASTER} 127.0.0.1 {primary_port} 2\n"
            f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {MASTER} 2\n"
        )
        self.process = subprocess.Popen(
            [redis_server_binary(), str(self.conf), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class SentinelGroup:
    """The primary, its two replicas and three sentinels; `url` is DIALER_REDIS_URL for them."""

    def __init__(self, folder: Path) -> None:
        self.servers = [RedisServer(folder / f"redis-{n}") for n in range(3)]
        self.sentinels: list[SentinelProcess] = []
        try:
            self._start(folder)
        except BaseException:
            self.stop()
            raise

    def _start(self, folder: Path) -> None:
        for server in self.servers:
            server.start()
        primary = self.servers[0]
        for replica in self.servers[1:]:
            replica.client().replicaof("127.0.0.1", primary.port)
        self.sentinels = [SentinelProcess(folder / f"sentinel-{n}", primary.port) for n in range(3)]
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        self.url = f"sentinel://{hosts}/{MASTER}"
        wait_until(self._settled, 30, "the sentinels to see two replicas and each other", 0.1)

    def primary(self) -> RedisServer:
        """The server the sentinels name as primary now."""
        port = int(self._ask("get-master-addr-by-name")[1])
        return next(server for server in self.servers if server.port == port)

    def replicas(self) -> list[RedisServer]:
        primary = self.primary()
        return [server for server in self.servers if server is not primary]

    def _ask(self, *args: str) -> list[str]:
        return self.sentinels[0].client().execute_command("SENTINEL", *args, MASTER)  # type: ignore[no-any-return]

    def _settled(self) -> bool:
        """Each sentinel knows the others, and the primary has both replicas in sync."""
        try:
            masters = [s.client().sentinel_master(MASTER) for s in self.sentinels]
            primary = self.primary().client().info("replication")
        except (redis.ConnectionError, redis.ResponseError, StopIteration):
            return False
        return all(
            m["num-other-sentinels"] == 2 and m["num-slaves"] == 2 for m in masters
        ) and _in_sync(primary, 2)

    def wait_promoted(self, old: RedisServer, timeout: float = 30) -> RedisServer:
        """Wait until the sentinels name another primary than `old`, and it acts as one."""

        def moved() -> bool:
            try:
                new = self.primary()
                return new is not old and new.client().info("replication")["role"] == "master"
            except (redis.ConnectionError, StopIteration):
                return False

        wait_until(moved, timeout, "Sentinel to promote a replica", 0.05)
        return self.primary()

    def cut_off(self, replica: RedisServer) -> None:
        """Stop `replica` (SIGSTOP) and close its link at the primary: nothing written from
        now on reaches it. Stopping alone would lose nothing: the stream waits in its socket
        buffer and it catches up as soon as it resumes."""
        link = next(c for c in replica.client().client_list() if "M" in c["flags"])
        assert replica.process is not None
        replica.process.send_signal(signal.SIGSTOP)
        self.primary().client().client_kill(link["laddr"])

    def restart(self, server: RedisServer) -> None:
        """Start a killed member again on its port, as a replica of the primary the sentinels
        name, as an operator would. (Left to itself it returns as a primary, and the sentinels
        convert it some 8 s later, but not while they are in TILT mode, which a loaded machine
        triggers whenever their timer lags 2 s: the CI run once waited 60 s in vain.)"""
        server.start(replica_of=self.primary().port)

    def stop(self) -> None:
        for sentinel in self.sentinels:
            sentinel.stop()
        for server in self.servers:
            if server.process is not None:
                server.process.send_signal(signal.SIGCONT)
            server.stop()


def _in_sync(info: dict[str, object], wanted: int) -> bool:
    replicas = [v for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
    return len(replicas) >= wanted and all(r.get("state") == "online" for r in replicas)


def wait_is_replica_of(server: RedisServer, primary: RedisServer, timeout: float = 60) -> None:
    """Wait until `server` replicates `primary` with its link up. A server found replicating
    another (or none: a sentinel's reconfiguration racing its restart) is told again which
    primary to follow, as an operator would; the timeout says what it last reported."""
    seen: dict[str, object] = {}

    def following() -> bool:
        try:
            info = server.client().info("replication")
        except redis.ConnectionError:
            return False
        seen.clear()
        seen.update((k, info.get(k)) for k in ("role", "master_port", "master_link_status"))
        if info["role"] != "slave" or int(info["master_port"]) != primary.port:
            server.client().execute_command("REPLICAOF", "127.0.0.1", primary.port)
            return False
        return info["master_link_status"] == "up"

    try:
        wait_until(following, timeout, f"redis on {server.port} to follow the new primary", 0.1)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; it last reported {seen}") from None
