"""The OpenAPI document declares the one error shape (never FastAPI's ``detail``) and the real content
types; /docs and /redoc load their assets from the service itself, not from a CDN."""

from __future__ import annotations


async def test_errors_are_declared_in_the_one_shape(client):
    document = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status in ("422", "500"):
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
    export = document["paths"]["/v1/datasets/{name}/export"]["get"]["responses"]["200"]["content"]
    assert "application/x-ndjson" in export
    jobs = document["paths"]["/v1/datasets/{name}/jobs"]["post"]["responses"]
    assert {"400", "404", "409", "413", "415", "422", "429"} <= set(jobs)


async def test_docs_are_served_from_installed_assets(client):
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = (await client.get(page)).text
        assert f"/docs-assets/{asset}" in html and "cdn" not in html.lower()
        script = await client.get(f"/docs-assets/{asset}")
        assert script.status_code == 200 and len(script.content) > 100_000
