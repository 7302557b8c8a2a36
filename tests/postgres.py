"""PostgreSQL for tests: the local server (``SI_TEST_POSTGRES_URL``), one fresh schema per test.

When the server does not answer, every test that needs it is skipped with the reason, and the run ends
with a red banner counting them (tests/conftest.py), so a missing server is never a silent pass.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import pytest

SERVER_URL = os.environ.get("SI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
POSTGRES_PARAM = pytest.param("postgresql", marks=pytest.mark.postgres, id="postgresql")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    try:
        with psycopg.connect(SERVER_URL, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL at {SERVER_URL} is not answering ({str(exc).strip()}): test SKIPPED")
    return SERVER_URL


def schema_url(server: str, schema: str) -> str:
    """The server URL with every connection's ``search_path`` set to ``schema``."""
    separator = "&" if "?" in server else "?"
    return f"{server}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A URL whose connections see only a new, empty schema (dropped afterwards)."""
    yield from fresh_schema(postgres_server)


def fresh_schema(server: str) -> Iterator[str]:
    schema = f"si_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema_url(server, schema)
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")
