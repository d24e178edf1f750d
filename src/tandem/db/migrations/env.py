"""Alembic environment: runs on the connection Tandem hands over (see tandem.db.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tandem.db.models import Base

config = context.config


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:  # `alembic` command line, used by developers to write migrations
    from sqlalchemy import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        run_migrations(conn)
else:
    run_migrations(connection)
