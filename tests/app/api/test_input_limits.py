"""Input is validated before it reaches the database or a model: each case here answered 500 once
(or stored what it should not); now a 4xx in the one error shape, naming the problem, nothing stored."""

from __future__ import annotations

import base64
import json

import pytest
from sqlmodel import Session, func, select

from app.models import Instruction, Job
from tests.app.helpers import start_job, wait_for_job
from tests.conftest import assert_error

pytestmark = pytest.mark.both_databases

TASK = {"instruction": "Name three rivers that flow through Europe.", "instances": [{"output": "Rhine"}]}


def forged_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


async def post_json(client, path: str, body: object):
    """JSON with escapes (``"\\ud800"``), as a client in another language would send a lone surrogate."""
    headers = {"content-type": "application/json"}
    return await client.post(path, content=json.dumps(body), headers=headers)


def stored(client, model) -> int:
    with Session(client.app_state.engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize("job_id", [2**31, 2**63, 0, -1])
async def test_path_ids_beyond_the_integer_range(client, job_id):
    for path in (f"/v1/jobs/{job_id}", f"/v1/jobs/{job_id}/generations", f"/v1/schedules/{job_id}"):
        assert_error(await client.get(path), 422, "validation_error", "job_id" if "jobs" in path else "")
    assert_error(await client.post(f"/v1/jobs/{job_id}/cancel"), 422, "validation_error")
    assert_error(await client.get(f"/v1/datasets/default/snapshots/{job_id}"), 422, "validation_error")


@pytest.mark.parametrize("last_id", [2**31, 2**63, 2**70, -5])
async def test_forged_cursors_beyond_the_integer_range(client, last_id):
    for path in ("/v1/datasets/default/instructions", "/v1/jobs", "/v1/schedules"):
        response = await client.get(path, params={"cursor": forged_cursor(last_id)})
        assert_error(response, 422, "invalid_input", "cursor")


async def test_seeds_with_a_job_seed_beyond_int4(client):
    response = await client.post("/v1/datasets/default/jobs", json={"target": 1, "seed": 2**31})
    assert_error(response, 422, "validation_error", "seed")


@pytest.mark.parametrize(
    ("text", "named"), [("Write a poem \ud800 about rain.", "U+D800"), ("Write\x00 a poem.", "U+0000")]
)
async def test_lone_surrogates_and_nul_are_refused_everywhere(client, text, named):
    before = stored(client, Instruction)
    body = {"instructions": ["Fine text.", text]}
    response = await post_json(client, "/v1/datasets/default/candidates", body)
    assert_error(response, 422, "validation_error", "instructions.1")
    assert named in response.json()["error"]["message"]
    seeds = {"tasks": [{**TASK, "instruction": text}]}
    assert_error(await post_json(client, "/v1/datasets/default/seeds", seeds), 422, "validation_error")
    line = json.dumps({"instruction": text, "input": "", "output": "x"})
    response = await client.post("/v1/datasets/default/imports?format=alpaca", content=f"[{line}]")
    assert_error(response, 422, "invalid_input", named)
    assert stored(client, Instruction) == before


async def test_nul_in_query_and_path_is_refused(client):
    assert_error(await client.get("/v1/datasets/default/similar?q=a%00b"), 422, "validation_error", "q")
    assert_error(await client.get("/v1/datasets/a%00b"), 422, "validation_error", "path")
    assert_error(await client.get("/v1/jobs?dataset=a%00b"), 422, "validation_error", "dataset")


async def test_deep_json_is_a_4xx(client):
    deep = "[" * 100_000 + "]" * 100_000
    response = await client.post("/v1/datasets/default/imports?format=alpaca", content=deep)
    assert_error(response, 422, "invalid_input", "deep")
    headers = {"content-type": "application/json"}
    response = await client.post("/v1/datasets/default/candidates", content=deep, headers=headers)
    assert_error(response, 422, "validation_error", "deeper")
    nested = json.dumps(
        {"instructions": ["A fine instruction here."], "x": [[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]}
    )
    response = await client.post("/v1/datasets/default/candidates", content=nested * 1, headers=headers)
    assert response.status_code == 200, response.text  # 22 levels: within the limit


async def test_bodies_and_items_have_size_limits(client):
    big = {"tasks": [{**TASK, "instruction": f"Task {i} " + "word " * 2000} for i in range(1100)]}
    before = stored(client, Instruction)
    assert_error(await client.post("/v1/datasets/default/seeds", json=big), 413, "payload_too_large")
    long_one = "Write a poem. " + "a" * 1_000_000
    response = await client.post("/v1/datasets/default/candidates", json={"instructions": [long_one]})
    assert_error(response, 422, "validation_error", "instructions.0")
    just_over = "Write a short poem about rain " + "x" * 10_000
    response = await client.post("/v1/datasets/default/candidates", json={"instructions": [just_over]})
    assert_error(response, 422, "validation_error", "10000")
    assert stored(client, Instruction) == before


async def test_malformed_json_says_where_and_that_it_must_be_json(client):
    headers = {"content-type": "application/json"}
    response = await client.post("/v1/datasets", content='{"name": "x",\n "oops"}', headers=headers)
    error = assert_error(response, 400, "invalid_json", "the body must be JSON")
    assert "line 2, column" in error["message"]
    response = await client.post("/v1/datasets", content="name=x", headers={"content-type": "text/plain"})
    assert_error(response, 415, "unsupported_media_type", "application/json")


async def test_dataset_names_compare_case_insensitively(client):
    assert (await client.post("/v1/datasets", json={"name": "Mine"})).status_code == 201
    assert_error(await client.post("/v1/datasets", json={"name": "mine"}), 409, "conflict", "Mine")
    response = await client.get("/v1/datasets/MINE")
    assert response.status_code == 200 and response.json()["name"] == "Mine"


async def test_a_job_that_cannot_run_is_refused_at_post(client):
    assert (await client.post("/v1/datasets", json={"name": "empty"})).status_code == 201
    before = stored(client, Job)
    response = await client.post("/v1/datasets/empty/jobs", json={"target": 3})
    assert_error(response, 409, "conflict", "no seed tasks")
    assert stored(client, Job) == before


async def test_every_list_is_paged(client):
    for _ in range(3):
        await wait_for_job(client, await start_job(client, target=1))
    for _ in range(3):
        body = {"dataset": "default", "cron": "0 3 * * *", "target": 1}
        assert (await client.post("/v1/schedules", json=body)).status_code == 201
    for path in ("/v1/jobs", "/v1/schedules"):
        seen, cursor = [], None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            response = await client.get(path, params=params)
            assert response.status_code == 200 and len(response.json()) <= 2
            seen += [item["id"] for item in response.json()]
            cursor = response.headers.get("x-next-cursor")
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 3, (path, seen)
    job_id = (await client.get("/v1/jobs", params={"limit": 1})).json()[0]["id"]
    first = await client.get(f"/v1/jobs/{job_id}/generations", params={"limit": 1})
    assert len(first.json()) == 1 and first.headers["x-next-cursor"]
    rest = await client.get(
        f"/v1/jobs/{job_id}/generations", params={"cursor": first.headers["x-next-cursor"]}
    )
    assert rest.json()[0]["id"] > first.json()[0]["id"]
