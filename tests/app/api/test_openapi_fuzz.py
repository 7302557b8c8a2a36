"""Schemathesis over every operation of the OpenAPI document, against a live server: no 5xx, no status
the document does not declare, no content type or body the document does not describe.

A fixed seed (``derandomize``) and a bounded example count per operation keep it repeatable and short.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.core.settings import Settings
from app.main import create_app
from generators.backends.fake import FakeBackend

EXAMPLES_PER_OPERATION = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def live_url(tmp_path_factory, real_embedder) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("fuzz")
    app_settings = Settings(
        database_url=f"sqlite:///{folder}/fuzz.db",
        backend="fake",
        worker_poll_s=0.05,
        index_dir=folder / "indexes",
        max_queued_jobs=10_000,
        _env_file=None,
    )
    app = create_app(app_settings, embedder=real_embedder, backend=FakeBackend())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not (server.started and server.servers):
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    assert app.state.pools.ready.wait(60) and app.state.backend.ready.wait(60)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


def test_every_operation_keeps_to_its_document(live_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{live_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 24
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def exercise(case) -> None:
            case.call_and_validate(checks=CHECKS, timeout=60)

        try:
            exercise()
        except Exception as exc:  # every operation is tried; all failures are reported together
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
