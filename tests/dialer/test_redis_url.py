"""DIALER_REDIS_URL read for each client: a `sentinel://` URL names the sentinels and the primary,
the passwords come from the environment only, and every client reaches the primary through a real
sentinel."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from dialer.errors import ConfigError
from dialer.redis_url import (
    RedisAuth,
    SentinelTarget,
    celery_options,
    environment_auth,
    parse_sentinel,
    redis_client,
)
from dialer.settings import load_settings
from dialer.store import BEAT_LEASE, Store, durability
from tests.support import RedisServer, dialer_env, dialer_exe, wait_until
from workers.celery_app import make_app
from workers.processes import free_port, redis_server_binary

hosts = st.lists(
    st.tuples(
        st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z0-9-]{1,10}){0,2}", fullmatch=True),
        st.integers(1, 65535),
    ),
    min_size=1,
    max_size=5,
)
names = st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True)


@given(hosts, names, st.integers(0, 15))
def test_a_sentinel_url_names_its_sentinels_primary_and_database(
    sentinels: list[tuple[str, int]], master: str, db: int
) -> None:
    url = f"sentinel://{','.join(f'{h}:{p}' for h, p in sentinels)}/{master}/{db}"
    assert parse_sentinel(url) == SentinelTarget(tuple(sentinels), master, db)
    options = celery_options(url, RedisAuth())
    assert options["broker_url"] == ";".join(f"sentinel://{h}:{p}/{db}" for h, p in sentinels)
    assert options["broker_transport_options"]["master_name"] == master


def test_defaults_port_26379_and_database_0() -> None:
    found = parse_sentinel("sentinel://a,b:26380/mymaster")
    assert found == SentinelTarget((("a", 26379), ("b", 26380)), "mymaster", 0)


def test_a_plain_url_is_left_as_it_is() -> None:
    assert parse_sentinel("redis://127.0.0.1:6379/0") is None
    assert celery_options("redis://h:1/2")["broker_url"] == "redis://h:1/2"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sentinel://:s3cret@h:26379/mymaster", "DIALER_REDIS_PASSWORD"),
        ("sentinel://h:26379", "names the primary"),
        ("sentinel://h:26379/", "names the primary"),
        ("sentinel:///mymaster", "at least one sentinel"),
        ("sentinel://h:port/mymaster", "'h:port' is not host:port"),
        ("sentinel://h:26379/mymaster/zero", "is a number"),
    ],
)
def test_a_malformed_sentinel_url_is_refused_by_name(url: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_sentinel(url)
    assert says in str(refused.value)
    assert str(refused.value).startswith("DIALER_REDIS_URL")
    assert "s3cret" not in str(refused.value)


def test_passwords_go_to_celery_settings_never_into_a_url() -> None:
    auth = RedisAuth(username="app", password="s3cret", sentinel_password="s3nt")
    options = celery_options("sentinel://h1:1,h2:2/mm", auth)
    assert "s3cret" not in options["broker_url"] + options["result_backend"]
    assert (options["broker_password"], options["broker_user"]) == ("s3cret", "app")
    assert options["broker_transport_options"]["sentinel_kwargs"]["password"] == "s3nt"
    assert "s3cret" not in repr(auth) and "s3nt" not in repr(auth)


@pytest.mark.parametrize(
    "variable", ["DIALER_REDIS_PASSWORD", "DIALER_SENTINEL_PASSWORD", "DIALER_REDIS_USERNAME"]
)
def test_a_password_in_dotenv_is_refused_naming_the_file(
    variable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("DIALER_"):
            monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(f"{variable}=s3cret\n")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert variable in str(refused.value)
    assert str(tmp_path / ".env") in str(refused.value)
    assert "s3cret" not in str(refused.value)


def test_passwords_from_the_environment_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALER_REDIS_PASSWORD", "s3cret")
    monkeypatch.setenv("DIALER_SENTINEL_PASSWORD", "s3nt")
    auth = environment_auth()
    assert (auth.password, auth.sentinel_password) == ("s3cret", "s3nt")


# -- a real primary behind a real sentinel, both with passwords -----------------------------


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[str]:
    """A primary with `requirepass`, watched by one sentinel with its own password; yields the
    `sentinel://` URL (no password in it)."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    server.client().config_set("requirepass", "s3cret")
    port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\nrequirepass s3nt\n"
        f"sentinel monitor mymaster 127.0.0.1 {server.port} 1\n"
        "sentinel auth-pass mymaster s3cret\n"
    )
    sentinel = subprocess.Popen(
        [redis_server_binary(), str(conf), "--sentinel"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    watcher = redis.Redis(port=port, password="s3nt", socket_connect_timeout=0.2)

    def watching() -> bool:
        try:
            return bool(watcher.sentinel_master("mymaster")["is_master"])
        except (redis.ConnectionError, redis.ResponseError):
            return False

    wait_until(watching, 10, "the sentinel to watch the primary")
    yield f"sentinel://127.0.0.1:{port}/mymaster"
    sentinel.terminate()
    sentinel.wait(timeout=10)
    server.stop()


def test_store_and_celery_reach_the_primary_through_the_sentinel(
    guarded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALER_REDIS_PASSWORD", "s3cret")
    monkeypatch.setenv("DIALER_SENTINEL_PASSWORD", "s3nt")
    store = Store.from_url(guarded)
    store.redis.set("seen", "by the store")
    app = make_app(guarded)
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        assert "s3cret" not in connection.as_uri()
    app.backend.client.set("result", "by the result backend")  # the result backend's client
    assert store.redis.get("result") == "by the result backend"
    assert durability(store).server == "the Sentinel primary 'mymaster'"  # not localhost:6379
    store.redis.close()


def test_without_the_password_the_primary_refuses(guarded: str) -> None:
    client = redis_client(guarded, RedisAuth(sentinel_password="s3nt"))
    with pytest.raises(redis.AuthenticationError):
        client.ping()
    client.close()


def test_the_credentials_are_never_read_from_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DIALER_REDIS_PASSWORD", raising=False)
    (tmp_path / ".env").write_text("DIALER_REDIS_PASSWORD=s3cret\n")
    assert environment_auth().password is None


def test_the_scheduler_runs_through_the_sentinel(guarded: str, tmp_path: Path) -> None:
    """`dialer beat` on a sentinel:// URL takes its lease on the primary the sentinel names."""
    env = {
        "DIALER_REDIS_URL": guarded,
        "DIALER_REDIS_PASSWORD": "s3cret",
        "DIALER_SENTINEL_PASSWORD": "s3nt",
        "DIALER_BEAT_EVERY_S": "0.1",
    }
    with (tmp_path / "beat.log").open("wb") as log:
        beat = subprocess.Popen(
            [dialer_exe(), "beat"], env=dialer_env(env), cwd=tmp_path, stdout=log, stderr=log
        )
    store = Store(redis_client(guarded, RedisAuth(password="s3cret", sentinel_password="s3nt")))
    try:
        wait_until(lambda: bool(store.redis.exists(BEAT_LEASE)), 30, "the beat's lease")
    finally:
        beat.terminate()
        beat.wait(timeout=20)
        store.redis.close()
    assert "Traceback" not in (tmp_path / "beat.log").read_text()
