"""docker-compose.yml describes a deployment we cannot start here (no Docker engine), so this
checks what can be checked: every service runs a command the project has, Redis is set up not
to lose work, and nothing listens beyond loopback on the host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from typer.main import get_command

from workers.cli import app

ROOT = Path(__file__).resolve().parent.parent


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
    for name in ("worker", "beat", "webhooks", "simulator"):
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
    redis = _compose()["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command
    assert redis["volumes"]
    assert "healthcheck" in redis


def test_published_ports_are_loopback_only_and_secrets_come_from_the_environment() -> None:
    compose = _compose()
    text = (ROOT / "docker-compose.yml").read_text()
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} publicly"
    assert "oi_sk_" not in text
    assert compose["services"]["worker"]["environment"]["ONEINBOX_API_KEY"].startswith("${")


def test_the_image_installs_the_dialer_command() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["dialer"]' in dockerfile
    for package in ("dialer", "campaigns", "workers"):
        assert f"COPY {package} " in dockerfile


def test_flower_is_optional_and_runs_against_our_celery_app() -> None:
    flower = _compose()["services"]["flower"]
    assert flower["profiles"] == ["monitoring"]
    assert flower["entrypoint"][:4] == ["celery", "-A", "workers.celery_app", "flower"]
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'monitoring = ["flower' in pyproject
    assert '".[monitoring]"' in (ROOT / "Dockerfile").read_text()
