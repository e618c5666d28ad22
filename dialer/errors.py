"""Every error the dialer raises, arranged by what the caller must do about it.

    DialerError
    ├── ConfigError            a setting is missing or wrong (no API key, bad rate, ...)
    ├── InputError             a contacts file or option the user gave cannot be used
    │   └── InvalidNumber      one phone number cannot be made into E.164
    ├── StateError             Redis state is missing or in an unexpected shape
    │   └── NoSuchCampaign     no campaign has that id
    └── ProviderError          OneInbox answered (or failed to) in a way we must act on
        ├── Retryable          nothing was done: try again later (connect errors, 429, 5xx on a GET)
        │   └── RateLimited    429: slow the whole campaign down, honouring Retry-After
        ├── Ambiguous          a POST may or may not have been processed (read timeout, 5xx after
        │                      sending): reconcile, never re-send blindly
        ├── Permanent          the provider refused the request (4xx): trying again will not help
        │   └── NotFound       404: the agent, call or number does not exist
        └── AuthError          401/403: the API key is wrong; stop everything

Provider errors carry the provider's own message and, where OneInbox's guide has one, the hint
that fixes the usual cause.

Every error carries how the server answers it (`http_status`: 422 bad input, 404 no such
campaign, 409 a state that does not allow it, 502 OneInbox failed) and, when it is about one
option or form field, that field's name (`field`, given where it is raised).
"""

from __future__ import annotations

from typing import ClassVar


def option_field(option: str) -> str:
    """The field an option sets: `--start-at` -> `start_at` (the form field of the same name)."""
    return option.lstrip("-").replace("-", "_")


class DialerError(Exception):
    """Base of every error the dialer raises on purpose."""

    http_status: ClassVar[int] = 400

    def __init__(self, *args: object, field: str | None = None) -> None:
        super().__init__(*args)
        self.field = field


class ConfigError(DialerError):
    """A setting is missing or invalid."""

    http_status = 422


class InputError(DialerError):
    """A file or option supplied by the user cannot be used.

    `where` names the file, row and column when they apply, so the message can point at them
    (and the field is then the file, unless an option is named).
    """

    http_status = 422

    def __init__(self, message: str, *, where: str = "", field: str | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message, field=field or
                         ("file" if where else None))  # fmt: skip
        self.where = where


class InvalidNumber(InputError):
    """A phone number cannot be normalised to E.164."""

    def __init__(
        self,
        message: str,
        *,
        reason: str = "invalid_number",
        where: str = "",
        field: str | None = None,
    ) -> None:
        super().__init__(message, where=where, field=field)
        self.reason = reason


class StateError(DialerError):
    """Durable state in Redis is missing or inconsistent, or does not allow what was asked."""

    http_status = 409


class NoSuchCampaign(StateError):
    """No campaign has the id given."""

    http_status = 404


class ProviderError(DialerError):
    """OneInbox could not do what was asked.

    `status_code` is the HTTP status (None when no response arrived); `detail` is the provider's
    own message; `hint` is the troubleshooting advice from OneInbox's guide, when one applies.
    """

    http_status = 502

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        detail: str = "",
        hint: str = "",
    ) -> None:
        self.status_code = status_code
        self.detail = detail
        self.hint = hint
        text = message
        if detail and detail not in message:
            text = f"{text}: {detail}"
        if hint:
            text = f"{text} (hint: {hint})"
        super().__init__(text)


class Retryable(ProviderError):
    """Nothing was done by the provider; the same request may be sent again later."""


class RateLimited(Retryable):
    """429 Too Many Requests. `retry_after` is in seconds (None when not given)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class Ambiguous(ProviderError):
    """A POST was sent and may have been processed; the outcome must be reconciled."""


class Permanent(ProviderError):
    """The provider refused the request; sending it again will not help."""


class NotFound(Permanent):
    """404: the referenced agent, call or number does not exist."""


class AuthError(ProviderError):
    """401/403: the API key is missing, wrong or not allowed. Stop all work that uses it."""
