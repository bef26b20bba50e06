"""What a backup directory holds, and its manifest.

```
DEST/
  manifest.json       format, Playdeck version, database kind, schema revision, file counts
  playdeck.db         SQLite: a copy made with SQLite's online backup API
  database.dump       PostgreSQL: pg_dump --format=custom
  files/ab/cd/<sha>   every stored file the copied database references
```
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson
from pydantic import BaseModel

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "playdeck.db"
PG_DUMP_FILE = "database.dump"
FILES = "files"


class BackupError(Exception):
    """The backup or restore cannot go on; the message is one line for the operator."""


class Manifest(BaseModel):
    format: int = FORMAT
    playdeck_version: str
    created_at: datetime
    database: str  # "sqlite" | "postgresql"
    schema_revision: str | None
    files: int
    bytes: int
    # Files the copied database references that were gone when the copy reached them (a run
    # deleted while the backup ran): listed so that nobody trusts the backup blindly.
    missing_files: list[str]

    def write(self, directory: Path) -> None:
        (directory / MANIFEST).write_bytes(
            orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_INDENT_2)
        )

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST
        if not path.is_file():
            raise BackupError(f"{directory} is not a Playdeck backup (no {MANIFEST})")
        manifest = cls.model_validate_json(path.read_bytes())
        if manifest.format != FORMAT:
            raise BackupError(f"backup format {manifest.format} is not supported")
        return manifest


def blob_path(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256[2:4] / sha256
