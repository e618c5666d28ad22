"""Numbers normalised beside the loader: the same answers here and in the child process."""

from __future__ import annotations

import io
import os
import signal
import sys

import pytest

from campaigns.contacts import open_contacts
from campaigns.numbers import (
    Found,
    NumberProcess,
    NumbersHere,
    failure,
    normalize_all,
    numbers_elsewhere,
)

PHONES = ["+14155550123", "(212) 555-0100", "n/a", "", "4.15555E+10", "020 7946 0958"]


def test_found_gives_each_row_its_number_or_failure() -> None:
    found = normalize_all(PHONES, "US")
    assert found.phones == ["+14155550123", "+12125550100"]
    assert found.mask == b"\x01\x01\x00\x00\x00\x00"
    reasons = [r if isinstance(r, str) else r[0] for r in found.results()]
    assert reasons == [
        "+14155550123", "+12125550100", "not_a_number", "missing_number", "precision_lost",
        "invalid_number",
    ]  # fmt: skip
    assert failure(found.failures[4]).reason == "precision_lost"
    assert normalize_all(PHONES[-1:], ["GB"]).phones == ["+442079460958"]


def test_the_child_process_answers_in_order_like_this_one() -> None:
    child, here = NumberProcess(), NumbersHere()
    try:
        for i in range(5):
            batch = [*PHONES[i:], f"+1415555{i:04d}"]
            child.send(batch, "US")
            here.send(batch, "US")
        for _ in range(5):
            assert child.receive() == here.receive()
    finally:
        child.close()


def test_a_dead_child_is_replaced_by_normalising_here() -> None:
    child = NumberProcess()
    child.send(PHONES, "US")
    assert child.receive() == normalize_all(PHONES, "US")
    os.kill(child._child.pid, signal.SIGKILL)
    child._child.wait()
    for i in range(3):
        child.send([f"+1415555{i:04d}", "n/a"], "US")
    assert [child.receive().phones for _ in range(3)] == [[f"+1415555{i:04d}"] for i in range(3)]
    child.close()


def test_closing_with_batches_unread_ends_the_child() -> None:
    child = NumberProcess()
    big = ["+14155550123"] * 50_000  # larger than a pipe's buffer, both ways
    for _ in range(4):
        child.send(big, "US")
    child.close()
    assert child._child.returncode is not None


def test_results_survive_the_pipe_exactly() -> None:
    odd = ["+1 415 555 0123\n", "tel:+442079460958", "\u00a0(415)\u00a0555\u20110199", "x" * 70]
    child = NumberProcess()
    try:
        child.send(odd, ["US", "GB", "US", "US"])
        got = child.receive()
    finally:
        child.close()
    assert got == normalize_all(odd, ["US", "GB", "US", "US"])
    assert isinstance(got, Found)


def test_without_a_child_process_the_numbers_are_normalised_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    numbers = numbers_elsewhere()
    assert isinstance(numbers, NumbersHere)
    data = ("phone\n" + "\n".join(f"+1415555{n:04d}" for n in range(100, 160)) + "\n").encode()
    opened = open_contacts(io.BytesIO(data), name="x.csv")
    assert sum(len(good) for good, _ in opened.batches(size=7)) == 60


def test_the_child_process_rejects_extensions_like_this_one() -> None:
    batch = ["+1 212 555 0100 ext 12", "(212) 555-0100 x12", "+19005550123", "+14155550123"]
    child = NumberProcess()
    try:
        child.send(batch, "US")
        found = child.receive()
    finally:
        child.close()
    assert found == normalize_all(batch, "US")
    assert [r if isinstance(r, str) else r[0] for r in found.results()] == [
        "has_extension", "has_extension", "+19005550123", "+14155550123",
    ]  # fmt: skip
