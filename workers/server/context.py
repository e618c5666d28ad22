"""What every route of the server needs, built once by `dialer serve` (or a test)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from dialer.settings import Settings
from dialer.store import Store
from workers.server.web.login import Sessions

MIB = 1024 * 1024
WEBHOOK_PATH = "/webhooks/oneinbox"


@dataclass(frozen=True)
class Server:
    """The server's resources and limits."""

    settings: Settings
    store: Store
    token: str
    state_dir: Path
    public_url: str | None = None
    max_upload_bytes: int = 50 * MIB
    events_every_s: float = 1.0

    @cached_property
    def sessions(self) -> Sessions:
        """The web pages' live sessions (their cookies are `Secure` when the public URL is
        https)."""
        secure = (self.public_url or "").lower().startswith("https://")
        return Sessions(self.token, secure=secure)

    @property
    def uploads(self) -> Path:
        """Where uploaded lists are kept, one file per uploaded file name."""
        return self.state_dir / "uploads"

    def files(self, cid: str) -> Path:
        """The folder of a campaign's files (results, rejects, report)."""
        return self.state_dir / "files" / cid

    @property
    def webhook_url(self) -> str | None:
        """The webhook URL campaigns started here are given (from --public-url)."""
        return self.public_url.rstrip("/") + WEBHOOK_PATH if self.public_url else None
