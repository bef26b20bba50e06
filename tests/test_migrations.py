"""The migration chain builds exactly the schema the models declare, and unwinds cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.command import downgrade
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from playdeck.db import make_engine
from playdeck.migrations import alembic_config, upgrade
from playdeck.models import Base
from playdeck.outcomes import Outcome


# SQLite cannot reflect expression indexes (lower(username)); PostgreSQL compares them too.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index"
)
def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_downgrade_to_base_and_upgrade_again(tmp_path: Path) -> None:
    path = tmp_path / "roundtrip.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        assert "runs" in inspect(engine).get_table_names()
        downgrade(alembic_config(engine), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert "results" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_pytest_outcomes_migration_reranks_results_and_back(tmp_path: Path) -> None:
    # 0008 put pytest's three outcomes into the rank order: stored ranks move with it.
    engine = make_engine(f"sqlite:///{tmp_path / 'rerank.db'}")
    now = "2026-12-01 00:00:00"
    try:
        upgrade(engine, "0011")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO projects (id, name, slug, created_at) VALUES (1, 'p', 'p', :now)"
                ),
                {"now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO runs (id, project_id, started_at, duration_ms, status, total, "
                    "passed, failed, flaky, skipped, timedout, interrupted, tags, metadata, "
                    "source_format, created_at) VALUES (1, 1, :now, 0, 'failed', 6, 1, 1, 1, 1, "
                    "1, 1, '[]', '{}', 'junit', :now)"
                ),
                {"now": now},
            )
            old = ("failed", "timedout", "interrupted", "flaky", "passed", "skipped")
            for rank, outcome in enumerate(old):
                connection.execute(
                    text(
                        "INSERT INTO tests (id, project_id, key, file, title_path, title, "
                        "full_title, browser_project, created_at) VALUES "
                        "(:id, 1, :key, 'f', '[]', :key, :key, '', :now)"
                    ),
                    {"id": rank + 1, "key": outcome, "now": now},
                )
                connection.execute(
                    text(
                        "INSERT INTO results (run_id, test_id, project_id, run_started_at, "
                        "outcome, rank, duration_ms, retry_count, tags, annotations) VALUES "
                        "(1, :id, 1, :now, :outcome, :rank, 0, 0, '[]', '[]')"
                    ),
                    {"id": rank + 1, "outcome": outcome, "rank": rank, "now": now},
                )

        def ranks() -> dict[str, int]:
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT outcome, rank FROM results"))
                return {outcome: rank for outcome, rank in rows}

        upgrade(engine)
        assert ranks() == {o: Outcome(o).rank for o in old}
        with engine.connect() as connection:
            counts = connection.execute(text("SELECT error, xfailed, xpassed FROM runs")).one()
        assert tuple(counts) == (0, 0, 0)
        with engine.begin() as connection:  # a pytest run stored after the upgrade
            connection.execute(
                text("UPDATE results SET outcome = 'xfailed', rank = 7 WHERE outcome = 'skipped'")
            )
            connection.execute(text("UPDATE runs SET skipped = 0, xfailed = 1"))

        downgrade(alembic_config(engine), "0011")
        # What the code before 0008 stored for an xfail: a pass.
        assert ranks() == {**{o: r for r, o in enumerate(old) if o != "skipped"}, "passed": 4}
        with engine.connect() as connection:
            passed = connection.execute(text("SELECT passed FROM runs")).scalar_one()
        assert passed == 2
    finally:
        engine.dispose()
