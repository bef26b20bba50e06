from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from playdeck.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


def run_migrations_online() -> None:
    # ``playdeck.migrations.upgrade`` passes the connection that holds the migration lock.
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine: Engine = config.attributes["engine"]
    with engine.connect() as own:
        _run(own)


run_migrations_online()
