"""The access log of `dialer serve`: one line per request, with nothing secret in it.

The token travels in a header, which the access log never shows; a webhook URL carries its
campaign's secret as its last path segment, which this filter replaces before the line is
written.
"""

from __future__ import annotations

import logging

from workers.server.context import WEBHOOK_PATH

HIDDEN = f"{WEBHOOK_PATH}/[secret]"


class HideWebhookSecrets(logging.Filter):
    """Rewrites uvicorn's access records (args: client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, its path cut after the webhook route."""
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and _is_hook(args[2]):
            record.args = (args[0], args[1], HIDDEN, args[3], args[4])
        return True


def _is_hook(path: object) -> bool:
    return isinstance(path, str) and path.startswith(WEBHOOK_PATH + "/")


def configure_access_log() -> None:
    """uvicorn's access lines at INFO through the dialer's handlers, secrets hidden."""
    access = logging.getLogger("uvicorn.access")
    access.addFilter(HideWebhookSecrets())
    access.setLevel(logging.INFO)
