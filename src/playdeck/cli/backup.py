"""``playdeck backup DEST`` and ``playdeck restore SOURCE``: the database and the file store
together, safe to run while the server serves (see ``backup.service`` for the order)."""

from __future__ import annotations

from pathlib import Path

import typer

from playdeck.backup.layout import BackupError
from playdeck.backup.service import create_backup, restore_backup
from playdeck.cli.users import cli_settings, err, out
from playdeck.kit.text import format_size


def backup(
    dest: Path = typer.Argument(..., help="A new (or empty) directory to write the backup to."),
) -> None:
    """Back up the database, then every stored file it references, into DEST."""
    settings = cli_settings()
    try:
        manifest = create_backup(settings, dest)
    except BackupError as exc:
        err.print(f"[red]playdeck: backup failed:[/] {exc}")
        raise typer.Exit(1) from None
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
    try:
        restored = restore_backup(settings, source, force=force)
    except BackupError as exc:
        err.print(f"[red]playdeck: restore failed:[/] {exc}")
        raise typer.Exit(1) from None
    out.print(
        f"Restored the {restored.database} database and {restored.files} files "
        f"({format_size(restored.bytes)}) into {settings.data_dir}"
    )
    if restored.missing_files:
        err.print(
            f"[yellow]warning:[/] {len(restored.missing_files)} files of the backup were "
            "missing or damaged and were not restored"
        )
