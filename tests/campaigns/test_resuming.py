"""A resumed campaign takes the options given (campaigns.resuming): `--min-gap` among them."""

from __future__ import annotations

from campaigns.progress import _kind
from campaigns.resuming import apply_options
from dialer.campaign import CampaignConfig
from dialer.store.claiming import HELD_BY_GAP


def _config(**kw: object) -> CampaignConfig:
    return CampaignConfig(campaign_id="c", agent_id="a", from_number="+14155550100", **kw)  # type: ignore[arg-type]


def test_a_resumed_campaign_takes_a_new_min_gap_and_says_so() -> None:
    stored = _config(min_gap_s=1800.0)
    config, said = apply_options(stored, _config(min_gap_s=0.0), frozenset({"min_gap"}))
    assert config.min_gap_s == 0.0
    assert said == ["min-gap 30 min -> off"]


def test_a_min_gap_not_given_again_is_kept() -> None:
    stored = _config(min_gap_s=1800.0)
    config, said = apply_options(stored, _config(min_gap_s=0.0), frozenset())
    assert config.min_gap_s == 1800.0 and said == []


def test_a_contact_held_by_the_gap_is_shown_with_who_called_it() -> None:
    reason = f"{HELD_BY_GAP}: called by campaign first at 10:02 UTC, next at 10:32 UTC"
    assert _kind(reason) == "for the re-call gap: called by campaign first at 10:02 UTC"


def test_a_resumed_campaign_sends_its_variables_under_the_names_given_now() -> None:
    stored = _config(variable_columns=("First Name",), renames=(("First Name", "first"),))
    asked = _config(variable_columns=("First Name",), renames=(("First Name", "first_name"),))
    config, said = apply_options(stored, asked, frozenset())
    assert config.renames == (("First Name", "first_name"),)
    assert said == ["renames First Name=first -> First Name=first_name"]
