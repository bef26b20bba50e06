"""``playdeck prune [--dry-run]``: apply every project's retention policy now.

The same job the server runs on its schedule, under the same lock: when a server (or another
``playdeck prune``) is pruning, this one says so and exits 1 rather than running twice.
"""

from __future__ import annotations

import typer

from playdeck.audit.service import Actor
from playdeck.cli.users import cli_settings, err, out
from playdeck.db import make_engine, timeouts_of
from playdeck.migrations import upgrade
from playdeck.retention.job import prune as prune_job
from playdeck.retention.lock import job_lock
from playdeck.retention.schemas import PruneReport
from playdeck.storage.filesystem import FilesystemBlobStore

# A dry run names the runs it would delete, up to this many per project.
LISTED_RUNS = 50


def _print(report: PruneReport) -> None:
    verb = (
        ("would delete", "would remove the files of")
        if report.dry_run
        else (
            "deleted",
            "removed the files of",
        )
    )
    for project in report.projects:
        out.print(
            f"{project.project}: {verb[0]} {len(project.deleted_runs)} runs, "
            f"{verb[1]} {len(project.pruned_files_runs)} runs"
            + ("" if report.dry_run else f" ({project.removed_files} stored files removed)")
        )
        if report.dry_run and project.deleted_runs:
            shown = ", ".join(map(str, project.deleted_runs[:LISTED_RUNS]))
            more = len(project.deleted_runs) - LISTED_RUNS
            out.print(f"  runs deleted: {shown}" + (f" and {more} more" if more > 0 else ""))
    if not report.projects:
        out.print("Nothing to prune.")


def prune(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would go; change nothing."),
    batch_size: int | None = typer.Option(
        None,
        min=1,
        max=10_000,
        help="Runs per transaction (default PLAYDECK_RETENTION_BATCH_SIZE).",
    ),
) -> None:
    """Apply the projects' retention policies now (pinned runs are never pruned)."""
    settings = cli_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url, timeouts_of(settings))
    try:
        upgrade(engine)
        store = FilesystemBlobStore(
            settings.files_dir, grace_seconds=settings.storage_grace_seconds
        )
        with job_lock(engine, settings.data_dir) as held:
            if not held and not dry_run:
                err.print("playdeck: another process is pruning right now; try again later")
                raise typer.Exit(1)
            report = prune_job(
                engine,
                store,
                actor=Actor.cli(),
                dry_run=dry_run,
                batch_size=batch_size or settings.retention_batch_size,
            )
    finally:
        engine.dispose()
    _print(report)
