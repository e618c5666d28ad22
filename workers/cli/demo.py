"""`dialer demo`: a sample campaign against the built-in OneInbox simulator, no account needed."""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr

from campaigns.planning import plan_run
from dialer.run_options import RunOptions
from dialer.settings import Settings, load_settings
from dialer.simulator.config import (
    DEFAULT_AGENT_ID,
    DEFAULT_API_KEY,
    DEFAULT_FROM_NUMBER,
    SimulatorConfig,
)
from dialer.simulator.server import start_in_thread
from workers.cli.app import app
from workers.cli.run import console, dial

FIRST_NAMES = ["Ana", "Ben", "Chloé", "Dev", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jamal",
               "Kira", "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sam", "Tara",
               "Umar", "Vera"]  # fmt: skip


def sample_rows() -> list[dict[str, str]]:
    """About 25 contacts in the shapes real exports have, three of them not dialable."""
    rows = []
    for n, name in enumerate(FIRST_NAMES):
        line = 100 + n
        phone = f"(415) 555-{line:04d}" if n % 2 else f"+1 212 555 {line:04d}"
        rows.append({"Phone Number": phone, "first_name": name, "order_id": f"A-{1000 + n}"})
    rows.append({"Phone Number": "", "first_name": "Walt", "order_id": "A-2000"})
    rows.append({"Phone Number": "4.15555E+10", "first_name": "Xena", "order_id": "A-2001"})
    rows.append({"Phone Number": "+1 212 555 0100", "first_name": "Yara", "order_id": "A-2002"})
    return rows


def write_sample(path: Path) -> None:
    """The sample contacts file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = sample_rows()
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the sample contacts and results.")] = Path(
        "dialer-demo"
    ),
    speed: Annotated[
        float, typer.Option(help="How much faster than real life the simulated calls run.")
    ] = 20.0,
    rate: Annotated[str, typer.Option(help="Pace of the demo campaign.")] = "5/s",
    seed: Annotated[int, typer.Option(help="Simulator seed (same seed, same outcomes).")] = 7,
) -> None:
    """Dial a sample campaign of 25 contacts against the built-in simulator, end to end."""
    contacts = out / "contacts.csv"
    write_sample(contacts)
    base = load_settings()
    with start_in_thread(SimulatorConfig(speed=speed, seed=seed)) as simulator:
        console.print(f"OneInbox simulator serving at {simulator.url}")
        settings = Settings(
            api_key=SecretStr(DEFAULT_API_KEY),
            base_url=simulator.url,
            redis_url=base.redis_url,
            agent_id=DEFAULT_AGENT_ID,
            from_number=DEFAULT_FROM_NUMBER,
            state_dir=base.state_dir / "demo",
            timing="poll_scale=0.25,post_call_wait_s=5",
        )
        opts = RunOptions(
            rate=rate, max_concurrent=10, window="always", min_gap="0"
        )  # fictional numbers
        chosen = plan_run(
            settings,
            contacts,
            opts,
            campaign=f"demo-{time.strftime('%Y%m%d-%H%M%S')}",
            results=out / "contacts.results.csv",
            rejects=out / "contacts.rejects.csv",
        )
        code = dial(settings, chosen, preflight=True)
    raise typer.Exit(code)
