"""`dialer simulator`: serve a local OneInbox API stand-in until Ctrl-C."""

from __future__ import annotations

from typing import Annotated

import typer

from dialer.simulator import DEFAULT_API_KEY, SimulatorConfig, parse_fault_spec, serve
from workers.cli.app import Out, app
from workers.cli.listening import listen

FAULT_HELP = (
    "Fault rule KIND[:ENDPOINT][:key=value,...]; repeatable. Kinds: rate_limit, error, ambiguous, "
    "timeout, late, slow, duplicate, drop. Endpoints: create, get, list, stop, delete, usage, "
    "other, webhook, * (any /v1 route). Keys: count=N (next N requests) or p=0.2 (probability), "
    "status, retry_after, delay. Example: --fault rate_limit:create:count=3,retry_after=2"
)


@app.command()
def simulator(
    host: Annotated[str, typer.Option(help="Interface to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8700,
    speed: Annotated[
        float, typer.Option(min=0.001, help="Time factor: 10 makes every call 10x shorter.")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed for call outcomes, timings and faults.")] = 0,
    daily_cap: Annotated[
        int | None, typer.Option(min=0, help="max_calls_per_day (default 1000).")
    ] = None,
    fault: Annotated[list[str] | None, typer.Option(help=FAULT_HELP)] = None,
) -> None:
    """Serve a local OneInbox API simulator (fake key, seeded agent and from-number)."""
    try:
        rules = [parse_fault_spec(spec) for spec in fault or []]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fault") from exc
    config = SimulatorConfig(speed=speed, seed=seed, faults=rules)
    if daily_cap is not None:
        config.max_calls_per_day = daily_cap
    sock = listen(host, port)
    out = Out()
    out.print(f"OneInbox simulator on [bold]http://{host}:{port}[/]", highlight=False)
    out.print(f"API key (simulator only): {DEFAULT_API_KEY}", highlight=False)
    out.print(
        f"Agent: {next(iter(config.agents))}  From number: {config.from_numbers[0]}",
        highlight=False,
    )
    out.print("Admin API: /_sim/faults, /_sim/creates, /_sim/stats. Ctrl-C to stop.")
    serve(config, host=host, port=port, sock=sock)
