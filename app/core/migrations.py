"""Bring a database to the newest schema with Alembic (app/migrations), at every start-up.

A database the 0.1.0 release created (tables, but no ``alembic_version``) is stamped at revision 0001,
the schema that release had, and upgraded from there. On PostgreSQL the upgrade runs under an advisory
lock, so processes starting together migrate one after the other.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
RELEASE_0_1_0 = "0001"
MIGRATION_LOCK_KEY = 7_305_202_601  # pg_advisory_xact_lock key of the schema upgrade


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """Migrations on ``connection`` (inside its transaction), or as the ``alembic`` command runs them on
    ``url`` (or ``SI_DATABASE_URL``): each run in its own transaction."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ini interpolation
    config.attributes["connection"] = connection
    return config


def upgrade_to_head(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        # tables rebuilt in batch mode are dropped and re-created: references must not be enforced
        # meanwhile (the pragma is ignored inside a transaction, hence before begin)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
            try:
                with connection.begin():
                    _upgrade(connection)
            finally:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
        return
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        _upgrade(connection)


def _upgrade(connection: Connection) -> None:
    config = alembic_config(connection)
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" not in tables and "dataset" in tables:
        logger.info("database created by release 0.1.0: stamping revision %s", RELEASE_0_1_0)
        command.stamp(config, RELEASE_0_1_0)
    command.upgrade(config, "head")
