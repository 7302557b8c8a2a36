"""A request that meets a lost or exhausted database answers 503 with Retry-After, never 500."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

import app.api.deps as deps
from tests.conftest import assert_error


async def test_a_lost_database_is_503_with_retry_after(client, monkeypatch):
    def lost(*_args, **_kwargs):
        raise OperationalError("SELECT dataset", {}, Exception("terminating connection"))

    monkeypatch.setattr(deps, "get_dataset", lost)
    response = await client.get("/v1/datasets/default/stats")
    assert_error(response, 503, "database_unavailable", "retry")
    assert response.headers["retry-after"] == "2"

    def exhausted(*_args, **_kwargs):
        raise PoolTimeout("QueuePool limit of size 5 overflow 10 reached")

    monkeypatch.setattr(deps, "get_dataset", exhausted)
    assert_error(await client.get("/v1/datasets/default/stats"), 503, "database_unavailable")
