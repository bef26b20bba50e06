"""The migration chain builds exactly the schema the models declare, and unwinds cleanly."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
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
from tests.fixtures.database import (
    SERVER_VARIABLE,
    create_postgres_database,
    drop_postgres_database,
)


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


def test_upgrading_a_populated_database_keeps_every_row(tmp_path: Path) -> None:
    """From the last revision before run parts, pytest outcomes and unknown durations to the
    head: nothing is lost. (On SQLite a batch copy of ``runs`` or ``attempts`` would drop the
    table with foreign keys on, and its results or attachments would cascade away.)"""
    engine = make_engine(f"sqlite:///{tmp_path / 'populated.db'}")
    now = "2026-12-01 00:00:00"
    rows = [
        "INSERT INTO projects (id, name, slug, created_at) VALUES (1, 'p', 'p', :now)",
        "INSERT INTO runs (id, project_id, started_at, duration_ms, status, total, passed, "
        "failed, flaky, skipped, timedout, interrupted, tags, metadata, source_format, "
        "created_at) VALUES (1, 1, :now, 5, 'passed', 1, 1, 0, 0, 0, 0, 0, '[]', '{}', "
        "'playwright', :now)",
        "INSERT INTO tests (id, project_id, key, file, title_path, title, full_title, "
        "browser_project, created_at) VALUES (1, 1, 'k', 'f', '[]', 't', 't', '', :now)",
        "INSERT INTO results (id, run_id, test_id, project_id, run_started_at, outcome, rank, "
        "duration_ms, retry_count, tags, annotations) VALUES (1, 1, 1, 1, :now, 'passed', 4, "
        "5, 0, '[]', '[]')",
        "INSERT INTO attempts (id, result_id, retry, status, duration_ms, steps, extra) "
        "VALUES (1, 1, 0, 'passed', 5, '[]', '{}')",
        "INSERT INTO attachments (id, attempt_id, run_id, name, content_type, size, sha256, "
        "created_at) VALUES (1, 1, 1, 'a.png', 'image/png', 1, 'x', :now)",
    ]
    tables = ("projects", "runs", "tests", "results", "attempts", "attachments")
    try:
        upgrade(engine, "0014")
        with engine.begin() as connection:
            for statement in rows:
                connection.execute(text(statement), {"now": now})
        upgrade(engine)
        with engine.connect() as connection:
            counts = {
                t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in tables
            }
            duration = connection.execute(text("SELECT duration_ms FROM attempts")).scalar()
        assert counts == dict.fromkeys(tables, 1)
        assert duration == 5
        with engine.begin() as connection:  # an unknown duration can be stored now
            connection.execute(text("UPDATE attempts SET duration_ms = NULL"))
    finally:
        engine.dispose()


@contextmanager
def _empty_database(tmp_path: Path) -> Iterator[Engine]:
    """An empty database: on the PostgreSQL server of ``PLAYDECK_TEST_DATABASE_URL`` (dropped
    afterwards), else a SQLite file."""
    server = os.environ.get(SERVER_VARIABLE)
    url = create_postgres_database(server) if server else f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        if server:
            drop_postgres_database(server, url)


def test_results_get_their_runs_branch_and_give_it_back_on_downgrade(tmp_path: Path) -> None:
    """0018 copies each run's branch into its results (the flake counts read it from an index)
    and its downgrade drops the copy, in place: no row is lost either way."""
    now = "2026-12-01 00:00:00"
    rows: list[tuple[str, dict[str, object]]] = [
        ("INSERT INTO projects (id, name, slug, created_at) VALUES (1, 'p', 'p', :now)", {}),
        (
            "INSERT INTO tests (id, project_id, key, file, title_path, title, full_title, "
            "browser_project, created_at) VALUES (1, 1, 'k', 'f', '[]', 't', 't', '', :now)",
            {},
        ),
    ]
    for run_id, branch in ((1, "main"), (2, None), (3, "feature/x")):
        rows += [
            (
                "INSERT INTO runs (id, project_id, started_at, duration_ms, status, total, "
                "passed, failed, flaky, skipped, timedout, interrupted, tags, metadata, "
                "source_format, created_at, branch) VALUES (:id, 1, :now, 5, 'passed', 1, 1, 0, "
                "0, 0, 0, 0, '[]', '{}', 'junit', :now, :branch)",
                {"id": run_id, "branch": branch},
            ),
            (
                "INSERT INTO results (id, run_id, test_id, project_id, run_started_at, outcome, "
                "rank, duration_ms, retry_count, tags, annotations) VALUES (:id, :id, 1, 1, "
                ":now, 'passed', :rank, 5, 0, '[]', '[]')",
                {"id": run_id, "rank": Outcome.PASSED.rank},
            ),
        ]
    with _empty_database(tmp_path) as engine:
        upgrade(engine, "0015")
        with engine.begin() as connection:
            for statement, values in rows:
                connection.execute(text(statement), {"now": now, **values})

        def results() -> list[tuple[object, ...]]:
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT * FROM results ORDER BY id")).mappings()
                return [(row["id"], row.get("run_branch", "(no column)")) for row in rows]

        def indexes() -> dict[str | None, list[str | None]]:
            return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("results")}

        upgrade(engine)
        assert results() == [(1, "main"), (2, None), (3, "feature/x")]
        assert indexes()["ix_results_run_rank"] == ["run_id", "rank", "id", "test_id"]
        assert "ix_results_test_branch_started" in indexes()

        downgrade(alembic_config(engine), "0015")
        assert results() == [(1, "(no column)"), (2, "(no column)"), (3, "(no column)")]
        assert indexes()["ix_results_run_rank"] == ["run_id", "rank", "id"]
        assert "ix_results_test_branch_started" not in indexes()

        upgrade(engine)
        assert results() == [(1, "main"), (2, None), (3, "feature/x")]


def test_reports_of_one_type_per_run_come_with_0019_and_block_its_downgrade(
    tmp_path: Path,
) -> None:
    """0019 drops the unique (run_id, type) of reports (every shard keeps its HTML report)
    keeping every report file (SQLite rebuilds ``reports``; dropping the old table would
    cascade to them); its downgrade refuses while a run holds two of a type, deleting none."""
    now = "2026-12-01 00:00:00"
    rows = [
        "INSERT INTO projects (id, name, slug, created_at) VALUES (1, 'p', 'p', :now)",
        "INSERT INTO runs (id, project_id, started_at, duration_ms, status, total, passed, "
        "failed, flaky, skipped, timedout, interrupted, tags, metadata, source_format, "
        "created_at) VALUES (1, 1, :now, 5, 'passed', 0, 0, 0, 0, 0, 0, 0, '[]', '{}', "
        "'junit', :now)",
        "INSERT INTO reports (id, run_id, type, label, entry, created_at) "
        "VALUES (1, 1, 'html', NULL, 'index.html', :now)",
        "INSERT INTO report_files (id, report_id, path, content_type, size, sha256) "
        "VALUES (7, 1, 'index.html', 'text/html', 3, 'x')",
    ]
    second = (
        "INSERT INTO reports (id, run_id, type, label, entry, created_at) "
        "VALUES (2, 1, 'html', 'html report (shard 2/2)', 'index.html', :now)"
    )
    with _empty_database(tmp_path) as engine:
        upgrade(engine, "0018")
        with engine.begin() as connection:
            for statement in rows:
                connection.execute(text(statement), {"now": now})

        def stored() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
            with engine.connect() as connection:
                reports = connection.execute(text("SELECT id, label FROM reports ORDER BY id"))
                files = connection.execute(text("SELECT id, report_id, path FROM report_files"))
                return [tuple(r) for r in reports], [tuple(f) for f in files]

        def constraints() -> list[list[str]]:
            return [c["column_names"] for c in inspect(engine).get_unique_constraints("reports")]

        upgrade(engine)
        assert constraints() == []
        assert "ix_reports_run_id" in {i["name"] for i in inspect(engine).get_indexes("reports")}
        assert stored() == ([(1, None)], [(7, 1, "index.html")])
        with engine.begin() as connection:
            connection.execute(text(second), {"now": now})

        with pytest.raises(RuntimeError, match="1 run\\(s\\) hold several reports of one type"):
            downgrade(alembic_config(engine), "0018")
        assert stored() == ([(1, None), (2, "html report (shard 2/2)")], [(7, 1, "index.html")])

        with engine.begin() as connection:
            connection.execute(text("DELETE FROM reports WHERE id = 2"))
        downgrade(alembic_config(engine), "0018")
        assert constraints() == [["run_id", "type"]]
        assert stored() == ([(1, None)], [(7, 1, "index.html")])
        upgrade(engine)
        assert constraints() == []
        assert stored() == ([(1, None)], [(7, 1, "index.html")])
