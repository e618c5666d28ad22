"""A list run again: which campaign it is, and the options given that change it.

A list is one campaign: its default id comes from the file's resolved path, and the store keeps
an index from that path to its campaign (`dialer:lists`). Campaigns made by an earlier version
(whose ids hashed the file's bytes) are found by their stored source and adopted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dialer.campaign import CampaignConfig, CampaignState
from dialer.errors import ConfigError, StateError
from dialer.store import Store

# Run options a resumed campaign takes when they are given: option -> the setting it sets.
CHANGEABLE = {
    "rate": "rate_per_s",
    "max_concurrent": "max_concurrent",
    "window": "window",
    "days": "days",
    "rules": "rules",
    "start_at": "start_at",
    "deadline": "deadline",
    "max_attempts": "max_attempts",
    "retry_on": "retry_on",
    "retry_delay": "retry_delays",
    "min_gap": "min_gap_s",
}
# Settings that make a campaign what it is: given differently on resume, refused.
FIXED = {"agent_id": "agent_id", "from_number": "from_number", "webhook_url": "webhook_url"}


def same_list(stored: str, path: str) -> bool:
    """Whether a campaign's stored source is the list at `path` (resolved). An earlier version
    stored the path as given, perhaps relative to where it ran (taken as here); a campaign
    with no list stored matches any."""
    return not stored or stored == path or str(Path(stored).resolve()) == path


def identify(store: Store, config: CampaignConfig, *, named: bool) -> CampaignConfig:
    """`config` with the id of its list's campaign; a campaign named (`named`) must be the
    campaign of this list, or not exist yet."""
    if named:
        _refuse_other_list(store, config)
        return config
    cid = store.list_campaign(config.source) or _adopt(store, config.source)
    return config.model_copy(update={"campaign_id": cid}) if cid else config


def _refuse_other_list(store: Store, config: CampaignConfig) -> None:
    cid = config.campaign_id
    try:
        stored = store.campaign(cid)
    except StateError:
        return
    if not same_list(stored.source, config.source):
        raise ConfigError(
            f"campaign {cid} was made from {stored.source}, not {config.source}: give "
            f"another --campaign name to dial {Path(config.source).name}, or run "
            f"{stored.source} to resume {cid}",
            field="campaign",
        )


def _adopt(store: Store, path: str) -> str | None:
    """The campaign an earlier version made from the list at `path` (an unfinished one first)."""
    found = [
        o
        for o in store.overviews(store.campaign_ids())
        if o.config.source and same_list(o.config.source, path)
    ]
    found.sort(key=lambda o: (o.state is not CampaignState.DONE, o.config.campaign_id))
    return found[-1].config.campaign_id if found else None


def apply_options(
    stored: CampaignConfig, asked: CampaignConfig, given: frozenset[str]
) -> tuple[CampaignConfig, list[str]]:
    """The stored campaign with the options given now applied, and each change said
    ("rate 1/s -> 2/s"). Options that cannot change, or a list whose columns changed, are
    refused with a message."""
    cid = stored.campaign_id
    for option, name in FIXED.items():
        if option in given and getattr(asked, name) != getattr(stored, name):
            raise ConfigError(
                f"campaign {cid} dials with {_flag(option)} {getattr(stored, name) or 'none'}; "
                f"that cannot change when it resumes: give a new --campaign name",
                field="campaign",
            )
    if set(asked.columns) != set(stored.columns):
        raise ConfigError(
            f"{Path(asked.source).name}: its columns changed since campaign {cid} was made "
            f"({', '.join(stored.columns)}); put them back, or give a new --campaign name",
            field="campaign",
        )
    changes: dict[str, Any] = {
        name: getattr(asked, name)
        for option, name in CHANGEABLE.items()
        if option in given and getattr(asked, name) != getattr(stored, name)
    }
    if asked.variable_columns != stored.variable_columns:
        changes["variable_columns"] = asked.variable_columns
    if asked.renames != stored.renames:  # as the variables: what the list is read with now
        changes["renames"] = asked.renames
    said = [
        f"{_label(name)} {_show(name, getattr(stored, name))} -> {_show(name, new)}"
        for name, new in changes.items()
    ]
    return stored.model_copy(update=changes), said


CALLING_TIMES = ("window", "days", "rules", "start_at", "deadline")


def calling_times_changed(before: CampaignConfig, after: CampaignConfig) -> bool:
    """Whether contacts waiting to be dialled must be scheduled again."""
    return any(getattr(before, name) != getattr(after, name) for name in CALLING_TIMES)


def _flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def _label(name: str) -> str:
    option = next((o for o, n in CHANGEABLE.items() if n == name), name)
    return option.replace("_", "-")


def _show(name: str, value: Any) -> str:
    if name == "rate_per_s":
        return f"{value:g}/s"
    if name == "min_gap_s":
        return f"{value / 60:g} min" if value else "off"
    if name == "renames":
        return ",".join(f"{column}={new}" for column, new in value) or "none"
    if isinstance(value, tuple):
        return ",".join(value) or "none"
    return str(value) if value not in ("", None) else "none"
