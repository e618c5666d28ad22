"""Where the API key may be sent: OneInbox's address, or another one only on purpose.

The key goes in every request's Authorization header, so the base URL decides who receives
it. A base URL must be https, unless its host is this machine (the simulator, a local proxy);
one other than DEFAULT_BASE_URL is taken only from the environment or an argument, never from
a `.env` file (see `dialer.settings`), and is named in a warning, once per process.

Every URL we are given to call back (a campaign's webhook URL, ...) passes `check_callback_url`:
OneInbox posts there with the campaign's secret in the path, so it is https, or plain http only
to this machine, never another scheme.
"""

from __future__ import annotations

import ipaddress
import logging

import httpx

from dialer.errors import ConfigError, InputError, option_field

DEFAULT_BASE_URL = "https://api.oneinbox.ai"
log = logging.getLogger("dialer.endpoint")
_warned: set[str] = set()
MAX_URL_LENGTH = 2048
_SHOWN = 80  # characters of a refused URL echoed back in a message


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1); no name is resolved."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """`url` if the API key may be sent there; otherwise a ConfigError saying why not."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"ONEINBOX_BASE_URL {url!r} is not a URL: {exc}") from exc
    if parsed.scheme == "https" and parsed.host:
        return url
    if parsed.scheme == "http" and parsed.host and is_loopback(parsed.host):
        return url
    raise ConfigError(
        f"ONEINBOX_BASE_URL {url!r} is refused: the API key is sent only over https "
        "(plain http only to this machine: localhost, 127.0.0.1 or ::1)"
    )


def check_callback_url(url: str, field: str = "webhook_url") -> str:
    """`url` normalised (scheme and host in lower case) if we may hand it out to be called back:
    https, or plain http to this machine. Otherwise an InputError naming `field` and saying why."""
    option = f"--{field.replace('_', '-')}"
    text = url.strip()
    if len(text) > MAX_URL_LENGTH:
        raise InputError(
            f"{option}: longer than {MAX_URL_LENGTH} characters", field=option_field(option)
        )
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise InputError(
            f"{option}: {_shown(text)} is not a URL: {exc}", field=option_field(option)
        ) from exc
    if parsed.scheme == "https" and parsed.host:
        return str(parsed)
    if parsed.scheme == "http" and parsed.host and is_loopback(parsed.host):
        return str(parsed)
    raise InputError(
        f"{option}: {_shown(text)} is refused: a callback URL must be https "
        "(plain http only to this machine: localhost, 127.0.0.1 or ::1)",
        field=option_field(option),
    )


def _shown(text: str) -> str:
    """`text` quoted for a message, cut short so a huge value is never echoed whole."""
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def warn_if_not_default(url: str) -> None:
    """Log, once per process and address, that the key goes somewhere other than OneInbox."""
    if url.rstrip("/") == DEFAULT_BASE_URL or url in _warned:
        return
    _warned.add(url)
    log.warning("the API key is sent to %s, not to %s (ONEINBOX_BASE_URL)", url, DEFAULT_BASE_URL)
