"""``playdeck backup DEST`` and ``playdeck restore SOURCE``: the database and the file store
together, safe to run while the server serves (see ``backup.service`` for the order)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from playdeck.backup.layout import BackupError
from playdeck.backup.service import create_backup, restore_backup
from playdeck.cli.users import cli_settings, err, out
from playdeck.kit.text import format_size


@contextmanager
def _failing_as(action: str) -> Iterator[None]:
    """A ``BackupError`` ends the command: one line saying why, exit status 1."""
    try:
        yield
    except BackupError as exc:
        err.print(f"[red]playdeck: {action} failed:[/] {exc}")
        raise typer.Exit(1) from None


def backup(
    dest: Path = typer.Argument(..., help="A new (or empty) directory to write the backup to."),
) -> None:
    """Back up the database, then every stored file it references, into DEST."""
    settings = cli_settings()
    with _failing_as("backup"):
        manifest = create_backup(settings, dest)
    out.print(
        f"Backed up the {manifest.database} database (revision {manifest.schema_revision}) "
        f"and {manifest.files} files ({format_size(manifest.bytes)}) to {dest}"
    )
    if manifest.missing_files:
        err.print(
            f"[yellow]warning:[/] {len(manifest.missing_files)} files the database references "
            "were deleted while the backup ran (runs deleted meanwhile); see manifest.json"
        )


def restore(
    source: Path = typer.Argument(..., help="A directory written by `playdeck backup`."),
    force: bool = typer.Option(
        False, "--force", help="Replace a database that already holds data."
    ),
) -> None:
    """Restore a backup into the configured database and data directory (stop the server)."""
    settings = cli_settings()
    with _failing_as("restore"):
        restored = restore_backup(settings, source, force=force)
    out.print(
        f"Restored the {restored.database} database and {restored.files} files "
        f"({format_size(restored.bytes)}) into {settings.data_dir}"
    )
    if restored.missing_files:
        err.print(
            f"[yellow]warning:[/] {len(restored.missing_files)} files of the backup were "
            "missing or damaged and were not restored"
        )
