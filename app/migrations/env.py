"""Alembic environment: the project's engine and models; SQLite tables are altered in batch mode.

``app.core.migrations.upgrade_to_head`` passes an open connection in ``config.attributes``; the
``alembic`` command line (see alembic.ini) builds one from ``SI_DATABASE_URL`` instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import app.models  # noqa: F401 - registers the tables
from app.core.db import make_engine
from app.core.settings import Settings

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(url=Settings().database_url, target_metadata=SQLModel.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or Settings().database_url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name != "sqlite":
                _configure(connection)
                return
            # tables rebuilt in batch mode are dropped and re-created: references are not enforced while
            # the migrations run (the pragma is ignored inside a transaction, hence before it) and are
            # checked once they are done
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
            try:
                _configure(connection)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migrations left rows with broken references: {broken[:5]}")
            finally:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
