"""``playdeck storage gc``: find (and with ``--apply`` remove) stored files nothing uses.

Safe beside running servers and other sweeps (see ``storage.gc``): a file claimed by an ingest
within the grace period is never touched.
"""

from __future__ import annotations

import typer
from rich.console import Console

from playdeck.cli.users import cli_settings
from playdeck.db import make_engine, timeouts_of
from playdeck.storage.filesystem import FilesystemBlobStore
from playdeck.storage.gc import sweep

storage_app = typer.Typer(help="The stored files (attachments, report files).")
out = Console(soft_wrap=True)


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"


@storage_app.command("gc")
def gc(
    apply: bool = typer.Option(False, "--apply", help="Remove what was found (default: report)."),
    older_than: int | None = typer.Option(
        None,
        "--older-than",
        min=0,
        help="Only files unclaimed for this many seconds (default PLAYDECK_STORAGE_GRACE_SECONDS)."
        " 0 is safe only while no ingest is running.",
    ),
) -> None:
    """Find orphan files, temporary leftovers and rows whose file is missing."""
    settings = cli_settings()
    grace = settings.storage_grace_seconds if older_than is None else older_than
    engine = make_engine(settings.effective_database_url, timeouts_of(settings))
    store = FilesystemBlobStore(settings.files_dir, grace_seconds=grace)
    try:
        report = sweep(engine, store, grace_seconds=grace, apply=apply, check_rows=True)
    finally:
        engine.dispose()
    verb = "removed" if apply else "would remove"
    out.print(f"orphan files: {report.orphans} ({_size(report.orphan_bytes)}), {verb}")
    out.print(f"temporary leftovers: {report.leftovers} ({_size(report.leftover_bytes)}), {verb}")
    if report.restored:
        done = "restored" if apply else "would restore"
        out.print(f"set-aside files still in use: {report.restored}, {done}")
    out.print(f"rows whose file is missing: {report.missing}")
    for sha in report.missing_examples:
        out.print(f"  missing: {sha}")
    if not apply and (report.orphans or report.leftovers or report.restored):
        out.print("dry run: nothing was changed (add --apply)")
