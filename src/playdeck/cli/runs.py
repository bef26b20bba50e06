"""``playdeck runs sweep``: what every server does every ``PLAYDECK_RUN_SWEEP_SECONDS``, once,
by hand: close silent live parts as interrupted, mark sharded runs missing shards incomplete.
Safe beside running servers and their own sweeps (``ingest.live.sweeper``)."""

from __future__ import annotations

import typer

from playdeck.cli.users import cli_settings
from playdeck.db import make_engine, timeouts_of
from playdeck.ingest.live.sweeper import sweep_runs

runs_app = typer.Typer(help="Runs in parts: sharded and live runs.", no_args_is_help=True)


@runs_app.command("sweep")
def sweep() -> None:
    """Close live parts silent for PLAYDECK_LIVE_HEARTBEAT_SECONDS; mark runs missing shards
    for PLAYDECK_SHARD_WAIT_SECONDS incomplete."""
    settings = cli_settings()
    engine = make_engine(settings.effective_database_url, timeouts_of(settings))
    try:
        swept = sweep_runs(
            engine,
            heartbeat_seconds=settings.live_heartbeat_seconds,
            shard_wait_seconds=settings.shard_wait_seconds,
        )
    finally:
        engine.dispose()
    typer.echo(f"live parts closed as interrupted: {swept.interrupted_parts}")
    typer.echo(f"sharded runs marked incomplete: {swept.incomplete_runs}")
