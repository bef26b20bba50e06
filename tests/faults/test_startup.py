"""Several instances starting at once on an empty database all come up (real processes)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from .services import Instance, playdeck_bin

PROCESSES = 3


def _upgrade_all_at_once(env: dict[str, str]) -> list[subprocess.CompletedProcess[bytes]]:
    processes = [
        subprocess.Popen(
            [playdeck_bin(), "db", "upgrade"],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(PROCESSES)
    ]
    results = []
    for process in processes:
        out, _ = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out))
    return results


def test_concurrent_db_upgrades_on_an_empty_postgresql_database(
    fresh_database: str, tmp_path: Path
) -> None:
    results = _upgrade_all_at_once(
        {"PLAYDECK_DATABASE_URL": fresh_database, "PLAYDECK_DATA_DIR": str(tmp_path)}
    )
    assert [r.returncode for r in results] == [0] * PROCESSES, [r.stdout for r in results]


def test_concurrent_db_upgrades_on_an_empty_sqlite_file(tmp_path: Path) -> None:
    results = _upgrade_all_at_once({"PLAYDECK_DATA_DIR": str(tmp_path / "data")})
    assert [r.returncode for r in results] == [0] * PROCESSES, [r.stdout for r in results]


def test_instances_started_together_on_an_empty_database_all_come_up(
    fresh_database: str, tmp_path: Path, instances: Callable[..., list[Instance]]
) -> None:
    started = instances(
        PROCESSES,
        {"PLAYDECK_DATABASE_URL": fresh_database, "PLAYDECK_DATA_DIR": str(tmp_path / "data")},
    )
    for instance in started:
        ready = httpx.get(f"{instance.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
