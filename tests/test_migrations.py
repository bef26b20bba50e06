"""The migration chain builds exactly the schema the models declare, and unwinds cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.command import downgrade
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from playdeck.db import make_engine
from playdeck.migrations import alembic_config, upgrade
from playdeck.models import Base


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
