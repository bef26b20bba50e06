"""The retention migration adds its columns in place: existing runs and results survive the
upgrade and the downgrade (a SQLite batch copy of ``runs`` would cascade-delete every result)."""

from __future__ import annotations

from pathlib import Path

from alembic.command import downgrade
from sqlalchemy import text

from playdeck.db import make_engine
from playdeck.migrations import alembic_config, upgrade

AT = "'2026-01-01 00:00:00'"
ROWS = (
    f"INSERT INTO projects (id, name, slug, created_at) VALUES (1, 'p', 'p', {AT})",
    "INSERT INTO runs (id, project_id, started_at, duration_ms, status, total, passed, failed,"
    " flaky, skipped, timedout, interrupted, tags, metadata, source_format, created_at)"
    f" VALUES (1, 1, {AT}, 0, 'passed', 1, 1, 0, 0, 0, 0, 0, '[]', '{{}}', 'junit', {AT})",
    "INSERT INTO tests (id, project_id, key, file, title_path, title, full_title,"
    f" browser_project, created_at) VALUES (1, 1, 'k', 'f', '[]', 't', 't', '', {AT})",
    "INSERT INTO results (id, run_id, test_id, project_id, run_started_at, outcome, rank,"
    f" duration_ms, retry_count, tags, annotations) VALUES (1, 1, 1, 1, {AT}, 'passed', 4, 0, 0,"
    " '[]', '[]')",
)


def test_existing_runs_and_results_survive_the_retention_migration(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(engine, "0004")
        with engine.begin() as conn:
            for row in ROWS:
                conn.execute(text(row))
        upgrade(engine, "0005")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM results")).scalar() == 1
            assert conn.execute(text("SELECT pinned, files_pruned_at FROM runs")).one() == (
                0,
                None,
            )
        downgrade(alembic_config(engine), "0004")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM results")).scalar() == 1
    finally:
        engine.dispose()
