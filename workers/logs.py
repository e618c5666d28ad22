"""Logging for every dialer process: one line per event, text or JSON, never the API key.

Events carry their context as fields (campaign, row, call_id, from/to state, ...). The API key
is removed from every line by a filter, whatever code produced it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
FORMATS = ("text", "json")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NEEDS_QUOTES = re.compile(r"[\s\"=\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def escape(text: str) -> str:
    """`text` with line breaks and other control characters written as escapes (`\\n`), so
    a value from outside can never start a line of its own."""
    return _CONTROL.sub(lambda m: json.dumps(m.group())[1:-1], text)


def _value(value: object) -> str:
    """A field's value for a text line: quoted when it holds a space, a quote or an `=`."""
    text = str(value)
    if _NEEDS_QUOTES.search(text):
        return escape(json.dumps(text, ensure_ascii=False))
    return text


class TextFormatter(logging.Formatter):
    """`2026-11-25T10:00:00Z INFO dialer.store transition campaign=c row=3 to_state=placed`.

    Messages and field values are escaped: one event is one line, whatever a value holds.
    """

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        fields = " ".join(f"{k}={_value(v)}" for k, v in _fields(record).items())
        message = escape(record.getMessage())
        line = f"{stamp} {record.levelname} {record.name} {message} {fields}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, event, then the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str, ensure_ascii=False)


class Redact(logging.Filter):
    """Replaces secrets in the final line, whatever put them there."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret, "[redacted]")
        record.msg, record.args = message, None
        for key, value in _fields(record).items():
            if isinstance(value, str):
                for secret in self.secrets:
                    value = value.replace(secret, "[redacted]")
                setattr(record, key, value)
        return True


def configure(
    fmt: str = "text",
    *,
    level: int = logging.INFO,
    secrets: list[str] | None = None,
    stream: Any = None,
) -> logging.Handler:
    """Send the dialer's logs (and others' warnings) to `stream` (stderr) in `fmt`."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(Redact(secrets or []))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("dialer").setLevel(level)
    return handler
