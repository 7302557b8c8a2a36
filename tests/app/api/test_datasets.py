from __future__ import annotations

import pytest

from tests.conftest import assert_error

pytestmark = pytest.mark.both_databases


async def test_default_dataset_is_seeded_from_shipped_seeds(client):
    datasets = (await client.get("/v1/datasets")).json()
    assert [d["name"] for d in datasets] == ["default"]
    assert datasets[0]["seed_count"] >= 100
    assert datasets[0]["embedding_threshold"] == 0.85
    assert datasets[0]["rouge_threshold"] == 0.7


async def test_create_read_delete_dataset(client):
    created = await client.post("/v1/datasets", json={"name": "legal-en", "rouge_threshold": 0.6})
    assert created.status_code == 201
    assert created.headers["location"] == "/v1/datasets/legal-en"
    assert created.json()["rouge_threshold"] == 0.6
    assert (await client.get("/v1/datasets/legal-en")).json()["seed_count"] == 0
    assert (await client.delete("/v1/datasets/legal-en")).status_code == 204
    assert_error(await client.get("/v1/datasets/legal-en"), 404, "not_found", "legal-en")


async def test_duplicate_name_is_a_conflict(client):
    assert_error(await client.post("/v1/datasets", json={"name": "default"}), 409, "conflict", "default")


async def test_bad_dataset_fields_name_the_problem(client):
    error = assert_error(
        await client.post("/v1/datasets", json={"name": "bad name!"}), 422, "validation_error"
    )
    assert error["details"][0]["field"] == "name"
    error = assert_error(
        await client.post("/v1/datasets", json={"name": "ok", "rouge_threshold": 1.5}),
        422,
        "validation_error",
    )
    assert error["details"][0]["field"] == "rouge_threshold"
    assert_error(
        await client.post("/v1/datasets", json={"name": "ok", "heuristics_preset": "nope"}),
        422,
        "validation_error",
        "nope",
    )
    assert_error(
        await client.post("/v1/datasets", json={"name": "ok", "disabled_rules": ["no_such_rule"]}),
        422,
        "validation_error",
        "no_such_rule",
    )
    assert [d["name"] for d in (await client.get("/v1/datasets")).json()] == ["default"]


async def test_seed_upload_adds_and_skips_duplicates(client):
    await client.post("/v1/datasets", json={"name": "mine"})
    task = {
        "instruction": "Name three rivers in Africa.",
        "instances": [{"input": "", "output": "Nile, Congo, Niger"}],
    }
    first = await client.post("/v1/datasets/mine/seeds", json={"tasks": [task, task]})
    assert first.json() == {"added": 1, "skipped_duplicates": 1, "seed_count": 1}
    again = await client.post("/v1/datasets/mine/seeds", json={"tasks": [task]})
    assert again.json() == {"added": 0, "skipped_duplicates": 1, "seed_count": 1}


async def test_bad_seed_upload_stores_nothing(client):
    await client.post("/v1/datasets", json={"name": "mine"})
    good = {"instruction": "Name three rivers in Africa.", "instances": [{"output": "Nile"}]}
    bad = {"instruction": "Name a colour.", "instances": [{"input": "", "output": ""}]}
    error = assert_error(
        await client.post("/v1/datasets/mine/seeds", json={"tasks": [good, bad]}), 422, "validation_error"
    )
    assert error["details"][0]["field"] == "tasks.1.instances.0.output"
    assert (await client.get("/v1/datasets/mine")).json()["seed_count"] == 0


async def test_unknown_route_uses_the_error_shape(client):
    assert_error(await client.get("/v1/nothing-here"), 404, "not_found")


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = (await client.get("/readyz")).json()
    assert ready["status"] == "ready" and ready["backend"] == "fake"
    assert ready["indexes_building"] == []


async def test_readiness_names_a_backend_that_failed_to_load(settings, embedder):
    import asyncio

    import httpx

    from app.main import create_app
    from generators.backends.fake import FakeBackend

    class BrokenBackend(FakeBackend):
        def load(self) -> None:
            raise RuntimeError("weights missing")

    app = create_app(settings, embedder=embedder, backend=BrokenBackend(), workers=False)
    async with app.router.lifespan_context(app):
        await asyncio.to_thread(app.state.backend.load)  # the same load, in the foreground
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert_error(await client.get("/readyz"), 503, "not_ready", "weights missing")
            assert (await client.get("/healthz")).status_code == 200
