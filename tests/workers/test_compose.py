"""docker-compose.yml describes a deployment we cannot start here (no Docker engine), so this
checks what can be checked: every service runs a command the project has, Redis is set up not
to lose work and to require a password (its command is run for real), secrets come from an
uncommitted env file and reach only the services that need them, Flower asks for a login,
images are pinned, every long-running service has a healthcheck, and nothing listens beyond
loopback on the host unless configured."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import redis
import yaml
from typer.main import get_command

from dialer.store import BEAT_LEASE
from tests.support import wait_until
from workers.cli import app
from workers.processes import free_port, redis_server_binary

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _command_path(argv: list[str]) -> list[str]:
    words = []
    for word in argv:
        if word.startswith("-"):
            break
        words.append(word)
    return words


def test_every_dialer_service_runs_an_existing_command() -> None:
    cli = get_command(app)
    services = _compose()["services"]
    for name in ("worker", "beat", "webhooks", "server", "simulator"):
        assert name in services, f"{name} service missing"
        words = _command_path(services[name]["command"])
        command: Any = cli
        for word in words:
            assert word in command.commands, f"{name}: `dialer {' '.join(words)}` does not exist"
            command = command.commands[word]
            params = {p for param in command.params for p in getattr(param, "opts", [])}
        flags = [w for w in services[name]["command"] if w.startswith("--")]
        assert set(flags) <= params, f"{name}: unknown options {set(flags) - params}"


def test_redis_keeps_work_across_restarts_and_never_evicts() -> None:
    redis_service = _compose()["services"]["redis"]
    command = " ".join(redis_service["command"])
    assert "--appendonly yes" in command
    assert "--appendfsync always" in command
    assert "--maxmemory-policy noeviction" in command
    assert redis_service["volumes"]
    assert "healthcheck" in redis_service


def test_redis_requires_the_password_from_the_env_file(tmp_path: Path) -> None:
    compose = _compose()
    service = compose["services"]["redis"]
    assert service["environment"]["REDIS_PASSWORD"].startswith("${REDIS_PASSWORD:?")
    assert "REDIS_PASSWORD" not in " ".join(service["command"]).replace("$$REDIS_PASSWORD", "")
    for name in ("worker", "beat", "webhooks", "server"):
        url = compose["services"][name]["environment"]["DIALER_REDIS_URL"]
        assert url.startswith("redis://:${REDIS_PASSWORD:?"), name
    # Run the service's own command (as compose would, `$$` being `$`) on a free port.
    script = service["command"][-1].replace("$$", "$").replace("/tmp/auth.conf", "auth.conf")
    port = free_port()
    script = script.replace("exec redis-server", f"exec {redis_server_binary()}")
    script += f" --port {port} --bind 127.0.0.1 --dir {tmp_path}"
    server = subprocess.Popen(
        ["sh", "-c", script],
        cwd=tmp_path,
        env={"REDIS_PASSWORD": "pw-1234", "PATH": "/usr/bin:/bin"},
    )
    try:
        authed = redis.Redis(port=port, password="pw-1234", socket_connect_timeout=0.2)
        wait_until(lambda: _answers(authed), 10, "the compose redis command to start")
        assert authed.config_get("appendfsync") == {"appendfsync": "always"}
        try:
            redis.Redis(port=port).ping()
            raise AssertionError("Redis answered without the password")
        except redis.AuthenticationError:
            pass
        assert oct((tmp_path / "auth.conf").stat().st_mode & 0o777) == "0o600"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_redis_is_reachable_only_on_an_internal_network() -> None:
    compose = _compose()
    assert compose["networks"]["backend"]["internal"] is True
    assert compose["services"]["redis"]["networks"] == ["backend"]
    assert "ports" not in compose["services"]["redis"]


def test_only_the_workers_get_the_api_key() -> None:
    services = _compose()["services"]
    holders = {n for n, s in services.items() if "ONEINBOX_API_KEY" in (s.get("environment") or {})}
    assert holders == {"worker", "worker-ha"}
    for name in holders:
        assert services[name]["environment"]["ONEINBOX_API_KEY"].startswith("${")


def test_published_ports_are_loopback_only_unless_configured() -> None:
    compose = _compose()
    text = (ROOT / "docker-compose.yml").read_text()
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            host = str(port).rsplit(":", 2)[0]
            assert host in ("127.0.0.1", "${DIALER_PUBLISH_ADDRESS:-127.0.0.1}"), name
    assert "oi_sk_" not in text


def test_secrets_come_from_an_env_file_that_is_not_committed() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Z_]+)", text))
    example = (ROOT / ".env.compose.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z_]+)=", example, re.MULTILINE))
    assert used <= documented, f"not in .env.compose.example: {used - documented}"
    assert (
        re.search(
            r"^(ONEINBOX_API_KEY|REDIS_PASSWORD|FLOWER_BASIC_AUTH|DIALER_WEB_TOKEN)=\S",
            example,
            re.M,
        )
        is None
    )
    assert ".env.compose" in (ROOT / ".gitignore").read_text().split()
    assert ".env.*" in (ROOT / ".dockerignore").read_text().split()


def test_flower_asks_for_a_login_and_has_no_api_key() -> None:
    flower = _compose()["services"]["flower"]
    assert set(flower["environment"]) == {"DIALER_REDIS_URL", "FLOWER_BASIC_AUTH"}
    script = flower["entrypoint"][-1]
    assert script.startswith('test -n "$$FLOWER_BASIC_AUTH" ||') and "exit 1" in script
    assert "exec celery -A workers.celery_app flower" in script


def test_images_are_pinned_to_exact_versions() -> None:
    exact = re.compile(r"^[a-z0-9./-]+:\d+\.\d+\.\d+[a-z0-9.-]*(@sha256:[0-9a-f]{64})?$")
    for name, service in _compose()["services"].items():
        if "build" not in service:
            assert exact.match(service["image"]), f"{name}: {service['image']} is not pinned"
    (base,) = re.findall(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert exact.match(base), f"Dockerfile: {base} is not pinned"


def test_long_running_services_have_healthchecks() -> None:
    services = _compose()["services"]
    for name in ("redis", "worker", "beat", "webhooks", "server"):
        assert services[name]["healthcheck"]["test"], name
    worker = services["worker"]
    assert worker["command"][-2:] == ["--name", "worker@%h"]
    assert "inspect ping" in worker["healthcheck"]["test"][1]
    assert "-d worker@$$HOSTNAME" in worker["healthcheck"]["test"][1]
    assert repr(BEAT_LEASE) in services["beat"]["healthcheck"]["test"][-1]


def test_the_image_installs_the_dialer_command() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["dialer"]' in dockerfile
    for package in ("dialer", "campaigns", "workers"):
        assert f"COPY {package} " in dockerfile


def test_flower_is_optional_and_runs_against_our_celery_app() -> None:
    flower = _compose()["services"]["flower"]
    assert flower["profiles"] == ["monitoring"]
    assert flower["entrypoint"][:2] == ["sh", "-c"]
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'monitoring = ["flower' in pyproject
    assert re.search(r"^flower==", (ROOT / "requirements.lock").read_text(), re.MULTILINE)


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    return dict(re.findall(r"^([a-z0-9._-]+)==(\S+) \\$", text, re.MULTILINE))


def test_the_image_and_dev_install_only_hashed_pins() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir --require-hashes -r requirements.lock" in dockerfile
    assert "--no-deps --no-build-isolation ." in dockerfile
    dev = (ROOT / "dev").read_text()
    assert 'pip install -q --require-hashes -r "$DEV_LOCK"' in dev
    assert "--no-deps --no-build-isolation -e ." in dev
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        entries = re.findall(
            r"^[a-z0-9._-]+==\S+(?: ;[^\\]*)? \\\n(?:    --hash=sha256:[0-9a-f]{64}.*\n)+",
            text,
            re.M,
        )
        assert len(entries) == len(re.findall(r"^[a-z]", text, re.M)) > 10, lock
        assert "setuptools" in _pins(lock)  # the build backend too
    runtime, dev_pins = _pins("requirements.lock"), _pins("requirements-dev.lock")
    shared = set(runtime) & set(dev_pins)
    assert {p for p in shared if runtime[p] != dev_pins[p]} == set()
    assert {"pytest", "mypy", "ruff", "fakeredis"} <= set(dev_pins)


# -- --profile sentinel ----------------------------------------------------------------------


def test_the_sentinel_profile_runs_the_dialer_through_three_sentinels() -> None:
    services = _compose()["services"]
    profiled = {name for name, s in services.items() if s.get("profiles") == ["sentinel"]}
    assert profiled == {
        *("redis-replica-1", "redis-replica-2", "sentinel-1", "sentinel-2", "sentinel-3"),
        *("worker-ha", "beat-ha", "server-ha"),
    }
    for name in ("worker-ha", "beat-ha", "server-ha"):
        env = services[name]["environment"]
        url = env["DIALER_REDIS_URL"]
        assert url == "sentinel://sentinel-1:26379,sentinel-2:26379,sentinel-3:26379/mymaster"
        assert env["DIALER_REDIS_PASSWORD"].startswith("${REDIS_PASSWORD")
        assert env["DIALER_SENTINEL_PASSWORD"].startswith("${SENTINEL_PASSWORD")
        assert env["DIALER_REDIS_WAIT_REPLICAS"] == "2"  # both replicas: see the README
    assert services["worker-ha"]["stop_grace_period"]  # time for a warm shutdown
    for name in ("redis-replica-1", "redis-replica-2", "sentinel-1", "beat-ha", "worker-ha"):
        assert services[name]["healthcheck"]["test"], name


def test_the_sentinel_command_watches_the_primary_with_passwords(tmp_path: Path) -> None:
    """The profile's own Redis and sentinel commands, run for real on free ports (`redis`, the
    service's host name, becomes 127.0.0.1)."""
    services = _compose()["services"]
    env = {"REDIS_PASSWORD": "pw-1234", "SENTINEL_PASSWORD": "sn-5678", "PATH": "/usr/bin:/bin"}
    primary_port, sentinel_port = free_port(), free_port()
    primary = _run_service(services["redis"], tmp_path / "redis", env, primary_port)
    script = services["sentinel-1"]["command"][-1].replace(
        "mymaster redis 6379", f"mymaster 127.0.0.1 {primary_port}"
    )
    sentinel = _run_script(script, tmp_path / "sentinel", env, sentinel_port)
    try:
        watcher = redis.Redis(port=sentinel_port, password="sn-5678", socket_connect_timeout=0.2)

        def watching() -> bool:
            try:
                master = watcher.sentinel_master("mymaster")
            except (redis.ConnectionError, redis.ResponseError):
                return False
            return bool(master["is_master"]) and not master["is_sdown"]

        wait_until(watching, 15, "the compose sentinel to watch the primary")
    finally:
        for process in (sentinel, primary):
            process.terminate()
            process.wait(timeout=10)


def _run_service(
    service: dict[str, Any], folder: Path, env: dict[str, str], port: int
) -> subprocess.Popen[bytes]:
    return _run_script(service["command"][-1], folder, env, port)


def _run_script(
    script: str, folder: Path, env: dict[str, str], port: int
) -> subprocess.Popen[bytes]:
    """A service's `sh -c` command as compose runs it (`$$` is `$`), in `folder`, on `port`."""
    folder.mkdir(parents=True)
    script = script.replace("$$", "$").replace("/tmp/", f"{folder}/")
    script = script.replace("exec redis-server", f"exec {redis_server_binary()}")
    script += f" --port {port} --bind 127.0.0.1 --dir {folder}"
    return subprocess.Popen(["sh", "-c", script], cwd=folder, env=env)
