"""PostgreSQL backups with ``pg_dump`` and ``pg_restore`` (Debian: ``postgresql-client``).

The password never appears on a command line (other users of the machine can read those): it
goes to the tools in ``PGPASSWORD``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import make_url

from playdeck.backup.layout import BackupError


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URL without the password, and the environment that carries it."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise BackupError(f"{Path(args[0]).name}: {last}")


def dump(url: str, target: Path, *, snapshot: str) -> None:
    """``pg_dump`` of the database as of the exported ``snapshot`` (custom format)."""
    conninfo, env = _libpq(url)
    _run(
        [
            _tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--snapshot={snapshot}",
            f"--file={target}",
            f"--dbname={conninfo}",
        ],
        env,
    )


def restore(url: str, source: Path, *, clean: bool) -> None:
    conninfo, env = _libpq(url)
    # One transaction: a restore that fails leaves the database as it was.
    args = [
        _tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
    ]
    if clean:
        args += ["--clean", "--if-exists"]
    _run([*args, f"--dbname={conninfo}", str(source)], env)
