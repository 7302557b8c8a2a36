"""The OpenAPI document as the service behaves: every error status a route can answer, in the one
error shape, and ``/docs`` + ``/redoc`` served from assets installed with the project (the
``fastapi-offline`` package ships Swagger UI and ReDoc), so they work on a machine without internet.

Which statuses a route declares follows from what answers them:

- every route: 422 (the URL's text rule, parameter validation) and 500 (never expected);
- every write (POST, PUT, PATCH, DELETE): 400 (malformed JSON), 413 (body too large), 415 (not JSON);
- a route with a path parameter: 404 (no such dataset, job, schedule, snapshot);
- routes that say more in their own ``responses`` (409, 429, 503 …) keep what they declare.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.staticfiles import StaticFiles


class ErrorDetail(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["dataset 'legal' does not exist"])
    details: Any = None


class ErrorBody(BaseModel):
    """The one error shape of every 4xx and 5xx."""

    error: ErrorDetail


DESCRIPTIONS = {
    400: "Malformed JSON (the message names line and column)",
    401: "No valid API key",
    403: "The API key lacks the scope",
    404: "Not found",
    409: "Conflict with what is stored",
    413: "Request body too large",
    415: "The body is not JSON",
    422: "Invalid input (the message names the field)",
    429: "Saturated: retry after the Retry-After seconds",
    500: "Internal error",
    503: "Not ready, or saturated: retry after the Retry-After seconds",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for ``statuses`` in the one error shape."""
    return {status: {"model": ErrorBody, "description": DESCRIPTIONS[status]} for status in statuses}


def declare_errors(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare the statuses every route can answer (see the module docstring),
    all in the one error shape, in place of FastAPI's own ``{"detail": …}`` 422."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_errors(
                get_openapi(title=app.title, version=app.version, routes=app.routes)
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _with_errors(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")["$defs"])
    schemas["ErrorBody"] = {
        k: v
        for k, v in ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}").items()
        if k != "$defs"
    }
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            statuses = {422, 500}
            if method.upper() in WRITE_METHODS:
                statuses |= {400, 413, 415}
            if "{" in path:
                statuses.add(404)
            if path.startswith("/v1"):
                statuses |= {401, 403}  # once API keys are on
            responses = operation.setdefault("responses", {})
            statuses |= {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for status in sorted(statuses):
                responses[str(status)] = {"description": DESCRIPTIONS[status], "content": error}
    return document


def _assets() -> Path:
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the fastapi-offline package (Swagger UI and ReDoc assets) is not installed")
    return Path(spec.submodule_search_locations[0]) / "static"


def install_docs(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` from the installed assets under ``/docs-assets``."""
    app.mount("/docs-assets", StaticFiles(directory=_assets()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} – API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} – ReDoc",
            redoc_js_url="/docs-assets/redoc.standalone.js",
            redoc_favicon_url="/docs-assets/favicon.png",
            with_google_fonts=False,
        )
