"""Fault rules in force: which requests or webhook events they hit, with counts and a seeded RNG."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from dialer.simulator.config import Endpoint, FaultKind, FaultRule


@dataclass
class ActiveFault:
    """A rule plus its id and how many more requests it may hit (None = unlimited)."""

    id: str
    rule: FaultRule
    remaining: int | None


class FaultBook:
    """The live set of fault rules. Thread-safe; probabilities come from one seeded RNG."""

    def __init__(self, rules: Iterable[FaultRule] = (), seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._seed = seed
        self._faults: list[ActiveFault] = []
        for rule in rules:
            self.add(rule)

    def add(self, rule: FaultRule) -> ActiveFault:
        """Put `rule` in force and return it with its id."""
        fault = ActiveFault(str(uuid.uuid4()), rule, rule.count)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every rule and reseed the RNG."""
        with self._lock:
            self._faults.clear()
            self._rng = random.Random(self._seed)

    def remove(self, fault_id: str) -> bool:
        """Remove one rule; False if there was no such rule."""
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) < before

    def listing(self) -> list[ActiveFault]:
        """The rules in force, oldest first."""
        with self._lock:
            return list(self._faults)

    def take(self, endpoint: Endpoint, kinds: Iterable[FaultKind]) -> FaultRule | None:
        """The first rule of one of `kinds` that fires for `endpoint` (uses up one of its count)."""
        wanted = set(kinds)
        with self._lock:
            for fault in self._faults:
                if fault.rule.kind in wanted and self._fires(fault, endpoint):
                    return fault.rule
        return None

    def _fires(self, fault: ActiveFault, endpoint: Endpoint) -> bool:
        rule = fault.rule
        if rule.endpoint not in (endpoint, Endpoint.ANY):
            return False
        if rule.endpoint is Endpoint.ANY and endpoint is Endpoint.WEBHOOK:
            return False
        if fault.remaining is not None:
            if fault.remaining <= 0:
                return False
            fault.remaining -= 1
            return True
        return rule.p is None or self._rng.random() < rule.p
