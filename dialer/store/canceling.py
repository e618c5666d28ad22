"""Cancelling a campaign's waiting contacts in batches (issue 25).

`Store.transition` is one script call and one log line per contact: cancelling a million
contacts took 15 minutes and logged a million lines. Here the same transition script runs for
each contact, but `BATCH` of them are sent in one pipeline, and the whole cancel logs one line.
Nothing about a contact's change differs from `Store.transition` (the script is the same one).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dialer.store.contact import ALLOWED_FROM, ContactState, indexed_args
from dialer.store.keys import script_keys

if TYPE_CHECKING:
    from dialer.store import Store

BATCH = 1000
log = logging.getLogger("dialer.store")
_TO = ContactState.CANCELED
_ALLOWED = ",".join(sorted(s.value for s in ALLOWED_FROM.get(_TO, ())))
_CLEARED = ["waiting", ""]  # a canceled contact waits for nothing: why it waited is dropped


def cancel_pending(store: Store, cid: str, batch: int = BATCH) -> int:
    """Move every contact still waiting (ready or queued) to canceled; how many moved."""
    script = store._transition  # the very script `Store.transition` runs
    rows, account, canceled = store.pending_rows(cid), store.account_of(cid), 0
    for start in range(0, len(rows), batch):
        pipe = store.redis.pipeline(transaction=False)
        for row in rows[start : start + batch]:
            keys = script_keys("transition", cid, row, account)
            args = [str(row), _ALLOWED, _TO.value, *[""] * 5, *indexed_args(), *_CLEARED]
            script(keys=keys, args=args, client=pipe)
        canceled += sum(1 for previous in pipe.execute() if previous)
    log.info("canceled", extra={"campaign": cid, "contacts": canceled, "waiting": len(rows)})
    return canceled
