"""All the dialer knows about Redis: key names, the Lua scripts, and the durable campaign state.

Every contact is a hash whose `state` changes only through compare-and-set scripts (see
`dialer/store/lua/`); `ContactRecord` is one read into types, beside its states and their
transitions (`dialer.store.contact`). Celery messages are wake-ups; the truth is here. Times
inside Redis are the server's clock, so workers on several machines agree on leases, due times
and pace.

Keys, for campaign C and contact R (its member id: given once to its number, never a row;
each named by a function in `dialer.store.keys`):
    dialer:camp:C              campaign settings, its CampaignState, its retry lineage, and its
                               pace's next send slot (`tat`; see `dialer.pace`)
    dialer:camp:C:counts       contacts per state
    dialer:camp:C:numbers      contacts by number (E.164 -> R): within a campaign a contact is
                               its number
    dialer:camp:C:c:R          one contact (its current attempt)
    dialer:camp:C:c:R:a:N      the contact's finished attempt N, when it was retried
    dialer:camp:C:ready        pending contacts, by when they are due
    dialer:camp:C:queued       pending contacts with a dial task in flight, by enqueue time
    dialer:camp:C:held         pending contacts a resumed campaign's load has not reached yet
    dialer:camp:C:loading      set while its list loads (a TTL the loading process renews)
    dialer:camp:C:inflight     concurrency slots held, by lease expiry
    dialer:camp:C:watch        contacts with follow-up work, by when it is due
    dialer:camp:C:sends        the send guard's stamps: when the last creates were let through
    dialer:camp:C:creates      the creates sent in the last 10 minutes, by when (the pace shown)
    dialer:acct:A:limits       account A's limits (`dialer limits`), shared by its campaigns
    dialer:acct:A:pace         the account's next send slot (`tat`)
    dialer:acct:A:inflight     the account's concurrency slots, by lease expiry (contact keys)
    dialer:acct:A:sends        the account's send guard stamps
    dialer:acct:A:campaigns    every campaign created on the account
    dialer:acct:A:dnc          the account's do-not-call list: number -> when and why (JSON)
    dialer:acct:A:called:NUM   the account's creates to one number in the last 24 hours
    dialer:call:ID             which contact a OneInbox call id belongs to (for webhooks)
    dialer:hook:SHA            which campaign a webhook secret belongs to (SHA-256 of the secret)
    dialer:schedules           scheduled jobs: name -> JSON spec
    dialer:occurrence:ID       one scheduled occurrence has been started (kept a week)
    dialer:schedule-runs       each scheduled job's last occurrence and how it went
    dialer:schedule-errors     each scheduled job's last error, and when
    dialer:beat                the lease of the one active scheduler
    dialer:beat-seen           when the active scheduler last looked for due occurrences
    dialer:active              campaigns the tick serves
    dialer:campaigns           every campaign created (listed by `dialer serve`)
    dialer:lists               a list file's resolved path -> its campaign
    dialer:results             a results file's resolved path -> the campaign that writes it
                               (a retry run's lineage: `lineage` in the campaign's hash)
    dialer:tick                the lease that lets one process tick at a time
    dialer:replicated          a counter written before WAIT (see `durability.replicated`)
    dialer:events:*            the outbox of signed events for a CRM (see `dialer.store.outbox`)
"""

from dialer.store.claiming import Claim
from dialer.store.contact import (
    ALLOWED_FROM,
    FINAL_STATES,
    LIVE_STATES,
    ContactRecord,
    ContactState,
    Dialable,
    hash_fields,
)
from dialer.store.core import Store
from dialer.store.durability import Durability, durability, replicated
from dialer.store.jobs import JobRun, RunStatus, SchedulerStore
from dialer.store.keys import (
    ACTIVE,
    BEAT_LEASE,
    PREFIX,
    SCHEDULES,
    TICK_LEASE,
    campaign_key,
    contact_key,
)
from dialer.store.loading import GONE, Loaded

__all__ = [
    "ACTIVE",
    "ALLOWED_FROM",
    "BEAT_LEASE",
    "FINAL_STATES",
    "GONE",
    "LIVE_STATES",
    "PREFIX",
    "SCHEDULES",
    "TICK_LEASE",
    "Claim",
    "ContactRecord",
    "ContactState",
    "Dialable",
    "Durability",
    "JobRun",
    "Loaded",
    "RunStatus",
    "SchedulerStore",
    "Store",
    "campaign_key",
    "contact_key",
    "durability",
    "hash_fields",
    "replicated",
]
