"""Pure tests of the simulator's call engine, fault book and config parsing: no HTTP, no sleep."""

from __future__ import annotations

import pytest

from dialer.simulator import engine
from dialer.simulator.calls import (
    COST_CENTS_PER_MINUTE,
    RECORDING_TTL_S,
    CallRecord,
    events,
    render,
)
from dialer.simulator.config import Endpoint, FaultKind, FaultRule, parse_fault_spec
from dialer.simulator.engine import Status
from dialer.simulator.faults import FaultBook

T0 = 1_800_000_000.0


def test_plans_are_deterministic_per_seed_number_and_index() -> None:
    a = engine.plan_call(7, "+14155550001", 0)
    assert a == engine.plan_call(7, "+14155550001", 0)
    others = {engine.plan_call(s, "+14155550001", n) for s in (7, 8) for n in range(5)}
    assert len(others) > 1


def test_random_plans_cover_every_outcome_with_realistic_timings() -> None:
    plans = [engine.plan_call(0, f"+1415555{i:04d}", 0) for i in range(400)]
    labels = {p.outcome for p in plans}
    assert labels == {
        "Interested",
        "Not Interested",
        "Appointment Booked",
        "Voicemail",
        "Not Connected",
        None,
    }
    for p in plans:
        assert 2.0 <= p.post_delay <= 3.0
        if p.answered:
            assert 2.0 <= p.ring <= 8.0
            assert p.talk is not None
            assert (5.0 <= p.talk <= 25.0) if p.outcome == "Voicemail" else (20 <= p.talk <= 120)


def test_script_picks_nth_item_and_repeats_the_last() -> None:
    script: list[engine.ScriptedOutcome] = ["failed", "voicemail"]
    outcomes = [engine.plan_call(0, "+1", n, script).outcome for n in range(4)]
    assert outcomes == [None, "Voicemail", "Voicemail", "Voicemail"]


def test_answered_call_walks_every_status_scaled_by_speed() -> None:
    plan = engine.CallPlan("Interested", ring=4.0, talk=60.0, post_delay=2.0)
    tl = engine.timeline(plan, T0, speed=2.0, scheduled=None)
    assert [engine.status_at(tl, T0 + dt) for dt in (0, 1.99, 2.0, 31.99, 32.0)] == [
        Status.INITIATED,
        Status.INITIATED,
        Status.IN_PROGRESS,
        Status.IN_PROGRESS,
        Status.COMPLETED,
    ]
    assert tl.post_ready == T0 + 33.0
    assert engine.duration(tl, 2.0) == 60


def test_future_schedule_is_queued_until_due() -> None:
    plan = engine.CallPlan("Interested", ring=4.0, talk=60.0, post_delay=2.0)
    tl = engine.timeline(plan, T0, speed=1.0, scheduled=T0 + 100)
    assert engine.status_at(tl, T0 + 99) is Status.QUEUED
    assert engine.status_at(tl, T0 + 100) is Status.INITIATED


def test_failed_and_unanswered_calls_never_reach_in_progress() -> None:
    failed = engine.timeline(engine.CallPlan(None, 3.0, 0.0, 2.0), T0, 1.0, None)
    assert engine.status_at(failed, T0 + 3) is Status.FAILED
    assert failed.answered is None and failed.end_reason == "dial_failed"
    missed = engine.timeline(engine.CallPlan("Not Connected", 20.0, 0.0, 2.0), T0, 1.0, None)
    assert engine.status_at(missed, T0 + 20) is Status.COMPLETED
    assert engine.duration(missed, 1.0) == 0


def test_never_ending_call_stays_in_progress_until_stopped() -> None:
    plan = engine.plan_call(0, "+1", 0, ["never_ends"])
    tl = engine.timeline(plan, T0, 1.0, None)
    assert engine.status_at(tl, T0 + 1e6) is Status.IN_PROGRESS
    stopped = engine.stop(tl, plan, T0 + 100, 1.0)
    assert engine.status_at(stopped, T0 + 100) is Status.COMPLETED
    assert stopped.end_reason == "api_stop"
    assert engine.duration(stopped, 1.0) == round(100 - plan.ring)


def test_stop_after_the_end_changes_nothing() -> None:
    plan = engine.CallPlan("Interested", 4.0, 60.0, 2.0)
    tl = engine.timeline(plan, T0, 1.0, None)
    assert engine.stop(tl, plan, T0 + 500, 1.0) == tl


def test_stop_while_ringing_is_not_connected() -> None:
    plan = engine.CallPlan("Interested", 4.0, 60.0, 2.0)
    tl = engine.stop(engine.timeline(plan, T0, 1.0, None), plan, T0 + 1, 1.0)
    assert tl.answered is None
    assert engine.outcome_of(tl, plan) == "Not Connected"


def _record(plan: engine.CallPlan) -> CallRecord:
    tl = engine.timeline(plan, T0, 1.0, None)
    return CallRecord(
        id="c",
        seq=1,
        agent_id="a",
        to_number="+1",
        from_number="+2",
        plan=plan,
        tl=tl,
        speed=1.0,
        webhook_url="http://x",
    )


def test_post_call_fields_appear_only_after_the_delay() -> None:
    rec = _record(engine.CallPlan("Appointment Booked", 4.0, 60.0, 2.5))
    at_end = render(rec, T0 + 64)
    assert at_end["status"] == "completed" and at_end["duration_seconds"] == 60
    assert at_end["messages"] == [] and at_end["analysis"]["outcome"] is None
    later = render(rec, T0 + 66.5)
    assert later["outcome"] == later["analysis"]["outcome"] == "Appointment Booked"
    assert {m["role"] for m in later["messages"]} == {"assistant", "user"}
    assert later["credits_used"] == 1.0 and later["ai_summary"] and later["latency"]


def test_call_fields_are_realistic_cost_recording_and_extracted_data() -> None:
    rec = _record(engine.CallPlan("Appointment Booked", 4.0, 61.0, 2.0))
    body = render(rec, T0 + 70)
    assert body["cost_cents"] == 2 * COST_CENTS_PER_MINUTE  # 61 s: two started minutes
    analysis = body["analysis"]
    assert analysis["sentiment"] == "positive" and analysis["extracted"]["appointment"]
    assert analysis["extracted"]["budget"] and isinstance(analysis["key_points"], list)
    link = body["recording_url"]
    assert link.startswith("https://") and f"expires={int(T0 + 70 + RECORDING_TTL_S)}" in link
    later = render(rec, T0 + 100)["recording_url"]
    assert later != link and f"expires={int(T0 + 100 + RECORDING_TTL_S)}" in later  # re-signed
    failed = render(_record(engine.CallPlan(None, 3.0, 0.0, 2.0)), T0 + 10)
    assert failed["cost_cents"] == 0 and failed["recording_url"] is None
    assert set(failed["analysis"]) == {"outcome", "summary"}  # no conversation, nothing extracted


def test_a_carrier_without_costs_reports_none() -> None:
    rec = _record(engine.CallPlan("Interested", 4.0, 30.0, 2.0))
    rec.report_costs = False
    assert render(rec, T0 + 40)["cost_cents"] is None


def test_scripts_give_the_agents_outcomes() -> None:
    kinds: list[engine.ScriptedOutcome] = ["interested", "not_interested", "appointment_booked"]
    outcomes = [engine.plan_call(0, "+1", 0, [kind]).outcome for kind in kinds]
    assert outcomes == ["Interested", "Not Interested", "Appointment Booked"]


def test_webhook_events_are_ordered_and_failed_calls_have_no_transcript() -> None:
    ok = events(_record(engine.CallPlan("Interested", 4.0, 60.0, 2.0)))
    assert ok == [(T0 + 4, "call.started"), (T0 + 64, "call.ended"), (T0 + 66, "transcript.final")]
    failed = events(_record(engine.CallPlan(None, 3.0, 0.0, 2.0)))
    assert failed == [(T0 + 3, "call.failed")]


def test_max_overlap_is_exact_and_touching_intervals_do_not_overlap() -> None:
    assert engine.max_overlap([]) == 0
    assert engine.max_overlap([(0, 1), (1, 2), (2, None)]) == 1
    assert engine.max_overlap([(0, 10), (1, 2), (1.5, 3), (2.5, None)]) == 3


def test_fault_book_counts_and_endpoints() -> None:
    book = FaultBook([FaultRule(kind=FaultKind.ERROR, endpoint=Endpoint.GET, count=2)])
    hits = [book.take(Endpoint.GET, [FaultKind.ERROR]) for _ in range(3)]
    assert [h is not None for h in hits] == [True, True, False]
    assert book.take(Endpoint.LIST, [FaultKind.ERROR]) is None


def test_fault_book_probability_is_seeded() -> None:
    def draws(seed: int) -> list[bool]:
        book = FaultBook([FaultRule(kind=FaultKind.SLOW, endpoint=Endpoint.ANY, p=0.5)], seed)
        return [book.take(Endpoint.GET, [FaultKind.SLOW]) is not None for _ in range(50)]

    assert draws(3) == draws(3)
    assert 5 < sum(draws(3)) < 45


def test_parse_fault_spec() -> None:
    rule = parse_fault_spec("rate_limit:create:count=3,retry_after=2")
    assert (rule.kind, rule.endpoint, rule.count, rule.retry_after) == (
        FaultKind.RATE_LIMIT,
        Endpoint.CREATE,
        3,
        2.0,
    )
    assert rule.status_code() == 429
    assert parse_fault_spec("drop").endpoint is Endpoint.WEBHOOK
    assert parse_fault_spec("slow:*:p=0.1,delay=0.5").delay == 0.5
    for bad in ("nope", "error:nowhere", "error:get:count", "error:get:count=1,p=0.5"):
        with pytest.raises(ValueError):
            parse_fault_spec(bad)
