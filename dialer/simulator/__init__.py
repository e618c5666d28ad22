"""A local stand-in for the OneInbox API, faithful to the documented behaviour.

config.py          SimulatorConfig, fault rules and their string form, default key/agent/number
engine.py          call plans and lifecycles as pure functions of seed and time
calls.py           a stored call, its CallResponse body and its webhook payloads
faults.py          the fault rules in force
store.py           in-memory state: calls, resources, create and delivery logs, stats
models.py          request bodies with the documented constraints
deps.py            auth, request-level faults, pagination
routes_calls.py    /v1/calls...
routes_resources.py  /v1/usage, agents, phone numbers, credentials
routes_admin.py    /_sim/... (no auth): faults, config, reset, creates, stats, deliveries
webhooks.py        background webhook delivery with retries
app.py             create_app, and `ReceivedAt`: when each request reached the app
server.py          start_in_thread, serve
"""

from __future__ import annotations

from dialer.simulator.app import create_app
from dialer.simulator.config import (
    DEFAULT_AGENT_ID,
    DEFAULT_API_KEY,
    DEFAULT_FROM_NUMBER,
    FaultRule,
    SimulatorConfig,
    parse_fault_spec,
)
from dialer.simulator.server import RunningSimulator, serve, start_in_thread

__all__ = [
    "DEFAULT_AGENT_ID",
    "DEFAULT_API_KEY",
    "DEFAULT_FROM_NUMBER",
    "FaultRule",
    "RunningSimulator",
    "SimulatorConfig",
    "create_app",
    "parse_fault_spec",
    "serve",
    "start_in_thread",
]
