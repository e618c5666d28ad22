"""One contact as the store keeps it: its states, the transitions between them, and its record.

A contact is a Redis hash of strings. `ContactRecord` is that hash read into types, with the
mapping both ways beside it: `from_redis` (what HGETALL gave), and `hash_fields` and `encode`
(fields to write).
A field missing from the hash, or empty, takes the record's default: the defaults below are the
only place that says, for instance, that a missing attempt means the first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class ContactState(StrEnum):
    """Where one contact is. The first four are live; the rest are final."""

    PENDING = "pending"  # waiting to be dialled
    DIALING = "dialing"  # claimed: a create is being sent, or was sent by a worker that died
    PLACED = "placed"  # OneInbox has the call; we follow it to its end
    RECONCILING = "reconciling"  # a create may have happened: looking for it before anything else
    COMPLETED = "completed"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    ERROR = "error"
    UNKNOWN = "unknown"
    CANCELED = "canceled"
    EXPIRED = "expired"
    SUPPRESSED = "suppressed"  # its number was on the do-not-call list when its turn came


_S = ContactState
LIVE_STATES = frozenset({_S.PENDING, _S.DIALING, _S.PLACED, _S.RECONCILING})
FINAL_STATES = frozenset(ContactState) - LIVE_STATES

# Every transition `Store.transition` may make: to-state -> the states it may come from. The
# store refuses any other (a duplicate or late task finds the contact elsewhere and stops).
# pending -> dialing is not here: only the claim script (dialer/store/lua/claim.lua) makes it.
ALLOWED_FROM: dict[ContactState, frozenset[ContactState]] = {
    _S.PENDING: frozenset({_S.PENDING, _S.DIALING, _S.PLACED, _S.RECONCILING}),
    _S.PLACED: frozenset({_S.DIALING, _S.PLACED, _S.RECONCILING}),
    _S.RECONCILING: frozenset({_S.DIALING, _S.RECONCILING}),
    _S.COMPLETED: frozenset({_S.PLACED}),
    _S.VOICEMAIL: frozenset({_S.PLACED}),
    _S.NO_ANSWER: frozenset({_S.PLACED}),
    _S.FAILED: frozenset({_S.PLACED}),
    _S.ERROR: frozenset({_S.DIALING, _S.RECONCILING}),
    _S.UNKNOWN: frozenset({_S.DIALING, _S.PLACED, _S.RECONCILING}),
    _S.CANCELED: frozenset({_S.PENDING}),
    _S.EXPIRED: frozenset({_S.PENDING}),
    _S.SUPPRESSED: frozenset({_S.PENDING}),  # made by the claim script (do-not-call list)
}

# The index sets a contact may be in, by its state: `ready` (or `queued`, while a dial task is on
# its way) only while pending, and the concurrency slot (`inflight`, the account's beside it)
# and `watch` (its follow-up) only while a create or its call is live. A transition gives delays
# only for the sets of its new state, and leaves only the sets of the state it leaves.
WAITING_STATES = frozenset({_S.PENDING})
FOLLOWED_STATES = frozenset({_S.DIALING, _S.PLACED, _S.RECONCILING})


def check_sets(to: ContactState, *, ready: bool, held: bool) -> None:
    """Refuse a transition that would put a contact in a set its new state does not use
    (`ready`: given a ready delay; `held`: a lease or a follow-up)."""
    if (ready and to not in WAITING_STATES) or (held and to not in FOLLOWED_STATES):
        raise ValueError(f"a contact going {to} is not indexed that way")


def indexed_args() -> list[str]:
    """ARGV 9 and 10 of transition.lua: the states of each group of index sets."""
    return [",".join(sorted(WAITING_STATES)), ",".join(sorted(FOLLOWED_STATES))]


# Field metadata: "attempt" marks a field of one attempt (reset when the contact is retried);
# "redis" names the hash field when it is not the attribute's name.
_ATTEMPT = {"attempt": True}


def _redis(name: str, *, attempt: bool = False) -> dict[str, Any]:
    return {"redis": name, "attempt": attempt}


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """One contact as read from the store: who to call, and its current attempt.

    The call fields (`call_id` to `analysis`) are OneInbox's, kept as text as they are written
    back to the results file. Times the dialer keeps are datetimes; the scripts' are ms.
    """

    member: int  # the contact's id in its campaign: its key's number (not a hash field)
    state: ContactState
    phone: str  # E.164
    source_row: int = 0  # its row in the list as last loaded (0 here: the same as `member`)
    load: int = 0  # the last load of the list that held its number
    cells_json: str = field(default="[]", metadata=_redis("row"))  # the row's kept cells, JSON
    agent_id: str = ""  # overrides the campaign's when set
    from_number: str = ""  # overrides the campaign's when set
    timezone: str = ""  # the row's timezone column
    attempt: int = 1  # 1 for the first attempt, +1 each retry
    last_status: str = ""  # how the previous attempt ended
    updated_at_ms: int = field(default=0, metadata=_redis("updated_at"))
    # This attempt: everything below goes back to its default when the contact is retried.
    sends: int = field(default=0, metadata=_ATTEMPT)  # claims made (creates sent or about to be)
    waiting: str = field(default="", metadata=_ATTEMPT)  # why it waits or expired, for a person
    due_at: datetime | None = field(default=None, metadata=_ATTEMPT)
    claimed_at_ms: int = field(default=0, metadata=_redis("claimed_at", attempt=True))
    sent_at: datetime | None = field(default=None, metadata=_ATTEMPT)  # an uncertain create's
    placed_at: datetime | None = field(default=None, metadata=_ATTEMPT)
    polls: int = field(default=0, metadata=_ATTEMPT)
    final_seen_at: datetime | None = field(default=None, metadata=_ATTEMPT)
    error: str = field(default="", metadata=_ATTEMPT)
    call_id: str = field(default="", metadata=_ATTEMPT)
    call_status: str = field(default="", metadata=_ATTEMPT)
    end_reason: str = field(default="", metadata=_ATTEMPT)
    outcome: str = field(default="", metadata=_ATTEMPT)
    duration_seconds: str = field(default="", metadata=_ATTEMPT)
    started_at: str = field(default="", metadata=_ATTEMPT)
    ended_at: str = field(default="", metadata=_ATTEMPT)
    summary: str = field(default="", metadata=_ATTEMPT)
    transcript: str = field(default="", metadata=_ATTEMPT)
    cost_cents: str = field(default="", metadata=_ATTEMPT)  # the carrier's, '' when unreported
    recording_url: str = field(default="", metadata=_ATTEMPT)  # signed, valid a few hours
    latency: str = field(default="", metadata=_ATTEMPT)  # JSON object
    analysis: str = field(default="", metadata=_ATTEMPT)  # JSON object (outcome, extracted...)

    @classmethod
    def from_redis(cls, member: int, hash_fields: Mapping[str, str]) -> ContactRecord:
        """The record of HGETALL's answer for contact `member` (not empty).

        A contact stored without `source_row` (by a version before contacts had ids of their
        own) was keyed by its row: its member is its source row.
        """
        values: dict[str, Any] = {"member": member, "source_row": member}
        for name, raw in hash_fields.items():
            spec = _DECODE.get(name)
            if spec is not None and raw != "":
                values[spec[0]] = spec[1](raw)
        return cls(**values)

    @property
    def cells(self) -> list[str]:
        """The row's cells for the campaign's columns, in their order."""
        values: list[str] = json.loads(self.cells_json)
        return values

    def encode(self, names: Iterable[str]) -> dict[str, str]:
        """The named hash fields of this record, as strings to write."""
        return {name: _ENCODE[name](self) for name in names}

    def to_redis(self) -> dict[str, str]:
        """Every hash field not at its default: reading them back gives this record."""
        out = {}
        for name, encode in _ENCODE.items():
            text = encode(self)
            default = str(self.member) if name == "source_row" else _DEFAULT_TEXT.get(name)
            if text != default:
                out[name] = text
        return out

    def with_fields(self, changes: Mapping[str, str]) -> ContactRecord:
        """This record with some hash fields changed (as a transition would write them)."""
        return ContactRecord.from_redis(self.member, {**self.to_redis(), **changes})

    def retry_fields(
        self, *, due_at: datetime, waiting: str, last_status: ContactState
    ) -> dict[str, str]:
        """What starts the next attempt: the attempt number moves on, how this one ended is
        kept in `last_status`, and every field of this attempt goes back to its default."""
        fresh = {**_ATTEMPT_DEFAULTS, "due_at": due_at, "waiting": waiting}
        after = replace(self, attempt=self.attempt + 1, last_status=last_status.value, **fresh)
        return after.encode(RETRY_WRITES)


class Dialable(Protocol):
    """What the store needs of a contact (campaigns.model.Contact is one)."""

    @property
    def source_row(self) -> int: ...
    @property
    def phone_e164(self) -> str: ...
    @property
    def row(self) -> dict[str, str]: ...
    @property
    def from_number(self) -> str | None: ...
    @property
    def agent_id(self) -> str | None: ...
    @property
    def timezone(self) -> str | None: ...


def new_contact_fields(contact: Dialable, columns: tuple[str, ...]) -> dict[str, str]:
    """The hash fields of a contact being added (its state, load and `source_row` are set by
    the add script: a row that moved is not a change of the contact's details)."""
    added = {
        "phone": contact.phone_e164,
        "row": json.dumps([contact.row.get(c, "") for c in columns], ensure_ascii=False),
    }
    overrides = {
        "from_number": contact.from_number,
        "agent_id": contact.agent_id,
        "timezone": contact.timezone,
    }
    added.update({k: v for k, v in overrides.items() if v})
    return added


_DECODERS: dict[str, Callable[[str], Any]] = {
    "int": int,
    "datetime | None": datetime.fromisoformat,
    "ContactState": ContactState,
    "str": str,
}


def hash_fields(**values: object) -> dict[str, str]:
    """Hash fields to write, named as the record's attributes and written as it reads them back:
    None as '', times as ISO 8601, numbers and states as text. An unknown name is a KeyError."""
    return {_NAME[attr]: _text(value) for attr, value in values.items()}


def _text(value: object) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _encoder(attr: str) -> Callable[[ContactRecord], str]:
    def encode(record: ContactRecord) -> str:
        return _text(getattr(record, attr))

    return encode


_FIELDS = [f for f in fields(ContactRecord) if f.name != "member"]
_NAME = {f.name: f.metadata.get("redis", f.name) for f in _FIELDS}
# Annotations are text here (`from __future__ import annotations`): "int", "datetime | None"...
_DECODE = {_NAME[f.name]: (f.name, _DECODERS[str(f.type)]) for f in _FIELDS}
_ENCODE = {_NAME[f.name]: _encoder(f.name) for f in _FIELDS}
_DEFAULT_TEXT = {
    _NAME[f.name]: "" if f.default is None else str(f.default)
    for f in _FIELDS
    if f.name not in ("state", "phone", "source_row")
}
_ATTEMPT_DEFAULTS: dict[str, Any] = {
    f.name: f.default for f in _FIELDS if f.metadata.get("attempt")
}
# The hash fields a retry writes: every field of the attempt, the attempt and how it ended.
RETRY_WRITES = (*(_NAME[n] for n in _ATTEMPT_DEFAULTS), "attempt", "last_status")
# Every hash field a contact may have (as written by the dialer and its scripts).
HASH_FIELDS = tuple(_ENCODE)
