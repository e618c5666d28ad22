"""The one settings object: environment > `.env` file > default.

Built at the edges by `load_settings()`: each CLI command, and each worker process once (its
resources, its logging); everything below receives plain values. Command-line flags that
override a setting (`--agent-id`, `--from-number`) are run options, applied over it where the
campaign is planned. The API key is a `SecretStr`: it prints as `**********`, is never accepted
from argv, and is never logged or written anywhere.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dialer.errors import ConfigError
from dialer.policy import Timing

DEFAULT_BASE_URL = "https://api.oneinbox.ai"


def _default_state_dir() -> Path:
    return Path.home() / ".local" / "state" / "dialer"


class Settings(BaseSettings):
    """Everything the dialer can be configured with, read once at the edge."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
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
    state_dir: Path = Field(
        default_factory=_default_state_dir,
        validation_alias=AliasChoices("state_dir", "DIALER_STATE_DIR"),
    )

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

    def require_api_key(self) -> str:
        """The API key's value, or a ConfigError that says where to put it."""
        if self.api_key is None or not self.api_key.get_secret_value().strip():
            raise ConfigError(
                "ONEINBOX_API_KEY is not set. Put your secret key (oi_sk_...) from the OneInbox "
                "dashboard (API Keys) in the environment or in a .env file; it is never taken "
                "from the command line."
            )
        return self.api_key.get_secret_value().strip()


def load_settings() -> Settings:
    """Settings from the environment over `.env` over the defaults."""
    return Settings()
