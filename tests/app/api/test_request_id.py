"""Every response carries ``X-Request-ID``: the client's when it is a sensible token, else a new one."""

from __future__ import annotations

import re


async def test_a_clients_request_id_comes_back(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "checkout-42.a:b_c"})
    assert response.headers["X-Request-ID"] == "checkout-42.a:b_c"


async def test_a_missing_or_odd_request_id_is_replaced_by_a_new_one(client):
    seen = set()
    for headers in ({}, {"X-Request-ID": "has spaces"}, {"X-Request-ID": "x" * 129}):
        response = await client.get("/v1/datasets", headers=headers)
        assert re.fullmatch("[0-9a-f]{32}", response.headers["X-Request-ID"])
        seen.add(response.headers["X-Request-ID"])
    assert len(seen) == 3


async def test_an_error_carries_its_request_id(client):
    response = await client.get("/v1/jobs/99", headers={"X-Request-ID": "lost-job"})
    assert response.status_code == 404 and response.headers["X-Request-ID"] == "lost-job"
