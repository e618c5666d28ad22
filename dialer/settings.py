"""The one settings object: environment > `.env` file > default.

Built at the edges by `load_settings()`: each CLI command, and each worker process once (its
resources, its logging); everything below receives plain values. Command-line flags that
override a setting (`--agent-id`, `--from-number`) are run options, applied over it where the
campaign is planned. The API key is a `SecretStr`: it prints as `**********`, is never accepted
from argv, and is never logged or written anywhere.

The `.env` file is the one in the current folder, so it may be anyone's: it may give the key,
but never the base URL the key is sent to (`dialer.endpoint`). A base URL other than
OneInbox's comes only from the environment. So do the Redis credentials of a `sentinel://`
DIALER_REDIS_URL, which `dialer.redis_url` reads from the environment alone; a `.env` file
that names one is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from dialer.account import DEFAULT_ACCOUNT, AccountLimits, check_account_name, fingerprint
from dialer.campaign import parse_rate
from dialer.endpoint import DEFAULT_BASE_URL, check_base_url, check_callback_url
from dialer.errors import ConfigError, DialerError
from dialer.policy import Timing
from dialer.redis_url import ENVIRONMENT_ONLY

ENV_FILE = ".env"
__all__ = ["DEFAULT_BASE_URL", "ENV_FILE", "Settings", "env_file", "load_settings"]


def _default_state_dir() -> Path:
    return Path.home() / ".local" / "state" / "dialer"


class Settings(BaseSettings):
    """Everything the dialer can be configured with, read once at the edge."""

    model_config = SettingsConfigDict(
        env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("api_key", "ONEINBOX_API_KEY")
    )
    base_url: str = Field(
        default=DEFAULT_BASE_URL, validation_alias=AliasChoices("base_url", "ONEINBOX_BASE_URL")
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("redis_url", "DIALER_REDIS_URL")
    )
    agent_id: str | None = Field(
        default=None, validation_alias=AliasChoices("agent_id", "DIALER_AGENT_ID")
    )
    from_number: str | None = Field(
        default=None, validation_alias=AliasChoices("from_number", "DIALER_FROM_NUMBER")
    )
    connect_timeout: float = Field(
        default=3.0,
        gt=0,
        validation_alias=AliasChoices("connect_timeout", "DIALER_CONNECT_TIMEOUT"),
    )
    read_timeout: float = Field(
        default=10.0, gt=0, validation_alias=AliasChoices("read_timeout", "DIALER_READ_TIMEOUT")
    )
    timing: str = Field(
        default="",
        validation_alias=AliasChoices("timing", "DIALER_TIMING"),
        description="dispatcher time limits, e.g. 'stuck_s=45,lease_s=120' (see dialer.policy)",
    )
    log_format: str = Field(
        default="text",
        pattern="^(text|json)$",
        validation_alias=AliasChoices("log_format", "DIALER_LOG_FORMAT"),
    )
    beat_every_s: float = Field(
        default=5.0,
        gt=0,
        validation_alias=AliasChoices("beat_every_s", "DIALER_BEAT_EVERY_S"),
        description="seconds between two passes of `dialer beat`",
    )
    beat_lateness_s: float = Field(
        default=900.0,
        gt=0,
        validation_alias=AliasChoices("beat_lateness_s", "DIALER_BEAT_LATENESS_S"),
        description="a scheduled occurrence missed by more than this is skipped",
    )
    allow_unsafe_redis: bool = Field(
        default=False,
        validation_alias=AliasChoices("allow_unsafe_redis", "DIALER_ALLOW_UNSAFE_REDIS"),
        description="dial even when Redis may lose an acknowledged claim on a crash",
    )
    redis_wait_replicas: int = Field(
        default=0,
        ge=0,
        validation_alias=AliasChoices("redis_wait_replicas", "DIALER_REDIS_WAIT_REPLICAS"),
        description="replicas that must acknowledge each claim (WAIT) before its create",
    )
    state_dir: Path = Field(
        default_factory=_default_state_dir,
        validation_alias=AliasChoices("state_dir", "DIALER_STATE_DIR"),
    )
    web_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("web_token", "DIALER_WEB_TOKEN")
    )
    public_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("public_url", "DIALER_PUBLIC_URL"),
        description="where OneInbox reaches `dialer serve` (its webhook route)",
    )
    serve_only: str = Field(
        default="",
        validation_alias=AliasChoices("serve_only", "DIALER_SERVE_ONLY"),
        description="the one campaign a worker's tick serves (set by `dialer run` for its "
        "embedded worker); empty: every campaign",
    )
    account: str | None = Field(
        default=None,
        validation_alias=AliasChoices("account", "DIALER_ACCOUNT"),
        description="the OneInbox account campaigns share limits in (default: the key's print)",
    )
    account_rate: str | None = Field(
        default=None,
        validation_alias=AliasChoices("account_rate", "DIALER_ACCOUNT_RATE"),
        description="the account's rate when `dialer limits set` gave none, e.g. 5/s",
    )
    account_max_concurrent: int | None = Field(
        default=None,
        ge=1,
        validation_alias=AliasChoices("account_max_concurrent", "DIALER_ACCOUNT_MAX_CONCURRENT"),
        description="the account's concurrency when `dialer limits set` gave none",
    )
    max_upload_mb: float = Field(
        default=50.0, gt=0, validation_alias=AliasChoices("max_upload_mb", "DIALER_MAX_UPLOAD_MB")
    )
    progress_every_s: float = Field(
        default=10.0,
        gt=0,
        validation_alias=AliasChoices("progress_every_s", "DIALER_PROGRESS_EVERY_S"),
        description="seconds between the plain progress lines of `dialer run` without a terminal",
    )

    events_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("events_url", "DIALER_EVENTS_URL"),
        description="where campaigns without --events-url send their signed events",
    )
    events_timing: str = Field(
        default="",
        validation_alias=AliasChoices("events_timing", "DIALER_EVENTS_TIMING"),
        description="event delivery's time limits, e.g. 'retry_s=2,retry_max_s=600' "
        "(see workers.courier.EventTiming)",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        validation_alias=AliasChoices("metrics_port", "DIALER_METRICS_PORT"),
        description="the port a worker serves /metrics on, at 127.0.0.1 (none by default)",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, environment, then `.env` without its base URL or Redis URL, then secret
        files."""
        dotenv = _WithoutDestinations(settings_cls, dotenv_settings)
        return init_settings, env_settings, dotenv, file_secret_settings

    @field_validator("base_url")
    @classmethod
    def _key_may_go_there(cls, value: str) -> str:
        return check_base_url(value)

    @field_validator("events_url")
    @classmethod
    def _events_may_go_there(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return check_callback_url(value, "events_url")
        except DialerError as exc:  # the environment named it, not a command-line option
            raise ConfigError(f"DIALER_EVENTS_URL{str(exc).removeprefix('--events-url')}") from None

    def dispatch_timing(self) -> Timing:
        """The dispatcher's time limits: defaults, with DIALER_TIMING's overrides."""
        values: dict[str, float] = {}
        for item in filter(None, (part.strip() for part in self.timing.split(","))):
            name, _, number = item.partition("=")
            if name.strip() not in Timing.__dataclass_fields__:
                raise ConfigError(f"DIALER_TIMING: unknown setting {name.strip()!r}")
            try:
                values[name.strip()] = float(number)
            except ValueError as exc:
                raise ConfigError(f"DIALER_TIMING: {item!r} needs a number") from exc
        return Timing(**values)

    def account_name(self) -> str:
        """The account this key dials on: DIALER_ACCOUNT, else a fingerprint of the API key
        (never the key itself), else "default" when there is no key either."""
        if self.account:
            return check_account_name(self.account.strip())
        if self.api_key is not None and self.api_key.get_secret_value().strip():
            return fingerprint(self.api_key.get_secret_value())
        return DEFAULT_ACCOUNT

    def account_defaults(self) -> AccountLimits:
        """The deployment's account limits (DIALER_ACCOUNT_RATE, _MAX_CONCURRENT): they apply to
        an account with no limits of its own in Redis."""
        rate = parse_rate(self.account_rate) if self.account_rate else None
        return AccountLimits(rate, self.account_max_concurrent)

    def require_api_key(self) -> str:
        """The API key's value, or a ConfigError that says where to put it."""
        if self.api_key is None or not self.api_key.get_secret_value().strip():
            raise ConfigError(
                "ONEINBOX_API_KEY is not set. Put your secret key (oi_sk_...) from the OneInbox "
                "dashboard (API Keys) in the environment or in a .env file; it is never taken "
                "from the command line."
            )
        return self.api_key.get_secret_value().strip()


NOT_FROM_DOTENV = frozenset({"base_url", "redis_url"})  # where the key goes, who dials with it


class _WithoutDestinations(PydanticBaseSettingsSource):
    """A `.env` source that never gives the base URL (the key's destination) nor the Redis URL
    (whoever holds that Redis dials with the key)."""

    def __init__(self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource):
        super().__init__(settings_cls)
        self.inner = inner

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        """Unused: values come from the wrapped source's __call__."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self.inner().items() if k not in NOT_FROM_DOTENV}


def env_file() -> Path | None:
    """The `.env` file settings are read from (full path), or None when there is none."""
    path = Path(ENV_FILE).resolve()
    return path if path.is_file() else None


def _refuse_base_url_from_env_file(settings: Settings) -> None:
    """A base URL in `.env` that would have been used is refused, naming the file."""
    path = env_file()
    if path is None or settings.base_url != DEFAULT_BASE_URL:
        return  # no file, or the environment or an argument chose the base URL
    given = str(DotEnvSettingsSource(Settings, env_file=path)().get("base_url") or "")
    if given and given.rstrip("/") != DEFAULT_BASE_URL:
        raise ConfigError(
            f"ONEINBOX_BASE_URL={given} in {path} is not used: a .env file may not send your "
            "API key elsewhere. Set ONEINBOX_BASE_URL in the environment instead, or remove it."
        )


def _refuse_redis_url_from_env_file(settings: Settings) -> None:
    """A Redis URL in `.env` that would have been used is refused, naming the file (not the URL:
    it may hold a password)."""
    path = env_file()
    if path is None or settings.redis_url is not None:
        return
    if DotEnvSettingsSource(Settings, env_file=path)().get("redis_url"):
        raise ConfigError(
            f"DIALER_REDIS_URL in {path} is not used: a .env file may not choose the Redis that "
            "dials with your API key. Set DIALER_REDIS_URL in the environment, or remove it."
        )


def _refuse_credentials_from_env_file() -> None:
    """A Redis or Sentinel credential in `.env` is refused, naming the file and the variable."""
    path = env_file()
    if path is None:
        return
    given = {name.upper() for name, value in dotenv_values(path).items() if value}
    for variable in ENVIRONMENT_ONLY:
        if variable in given:
            raise ConfigError(
                f"{variable} in {path} is not used: a .env file may be anyone's, so Redis "
                f"credentials come from the environment only. Set {variable} in the "
                "environment instead, and remove it from the file."
            )


def load_settings() -> Settings:
    """Settings from the environment over `.env` over the defaults; a ConfigError naming the
    setting (or the `.env` file) when one is refused."""
    try:
        settings = Settings()
    except ValidationError as exc:
        raise ConfigError(_readable(exc)) from None
    _refuse_base_url_from_env_file(settings)
    _refuse_redis_url_from_env_file(settings)
    _refuse_credentials_from_env_file()
    return settings


def _readable(exc: ValidationError) -> str:
    """A settings error in one line per problem, without the values (they may be secrets)."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        problems.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "settings: " + "; ".join(problems)
