"""Factories for API tests."""

from __future__ import annotations

import asyncio

import httpx

from app.models import TERMINAL_STATES


async def wait_for_job(client: httpx.AsyncClient, location: str, timeout: float = 60.0) -> dict:
    """Block (off the event loop) until the in-process worker has finished the job, then read it."""
    job_id = int(location.rsplit("/", 1)[1])
    worker = client.app_state.jobs.worker  # type: ignore[attr-defined]
    finished = await asyncio.to_thread(worker.wait_for, job_id, timeout)
    assert finished, f"job {job_id} did not finish within {timeout}s"
    job = (await client.get(location)).json()
    assert job["status"] in TERMINAL_STATES
    return job


async def start_job(client: httpx.AsyncClient, dataset: str = "default", **body) -> str:
    response = await client.post(f"/v1/datasets/{dataset}/jobs", json={"target": 5, **body})
    assert response.status_code == 202, response.text
    return response.headers["location"]


async def all_pages(client: httpx.AsyncClient, path: str, limit: int = 50, **params) -> list[dict]:
    """Every item of a cursor-paginated listing."""
    items, cursor = [], None
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def all_instructions(client: httpx.AsyncClient, dataset: str = "default", **params) -> list[dict]:
    return await all_pages(client, f"/v1/datasets/{dataset}/instructions", **params)


async def all_instances(client: httpx.AsyncClient, dataset: str = "default", **params) -> list[dict]:
    """Instances, read 7 a page so the cursor is exercised."""
    return await all_pages(client, f"/v1/datasets/{dataset}/instances", limit=7, **params)
