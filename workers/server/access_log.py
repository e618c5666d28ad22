"""The access log of `dialer serve`: one line per request, with nothing secret in it.

The token travels in a header (or the login form's body), which the access log never shows; a
webhook URL carries its campaign's secret as its last path segment, and a query string may carry
anything a client put there (a token, percent-encoded past any redaction): this filter replaces
both before the line is written.
"""

from __future__ import annotations

import logging

from workers.server.context import WEBHOOK_PATH

HIDDEN = f"{WEBHOOK_PATH}/[secret]"
QUERY = "?[query]"


class HideWebhookSecrets(logging.Filter):
    """Rewrites uvicorn's access records (args: client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, its path cut after the webhook route, its query string hidden."""
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], shown_path(args[2]), args[3], args[4])
        return True


def shown_path(path: str) -> str:
    """A request's path as the access log shows it: no webhook secret, no query string."""
    path, query, _ = path.partition("?")
    if path.startswith(WEBHOOK_PATH + "/"):
        path = HIDDEN
    return path + (QUERY if query else "")


def configure_access_log() -> None:
    """uvicorn's access lines at INFO through the dialer's handlers, secrets hidden."""
    access = logging.getLogger("uvicorn.access")
    access.addFilter(HideWebhookSecrets())
    access.setLevel(logging.INFO)
