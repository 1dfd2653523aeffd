"""Alembic environment: runs on the connection hostpanel passes in, or on HOSTPANEL_DATABASE_URL for `alembic`."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from hostpanel.storage.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from hostpanel.config import Settings
    from hostpanel.storage.engine import make_engine

    engine = make_engine(Settings().database_url_or_default)
    with engine.connect() as own_connection:
        _run(own_connection)
        own_connection.commit()
