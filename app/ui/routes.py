"""``GET /`` (the dashboard's HTML shell) and ``/ui/static/…`` (its assets), kept out of the OpenAPI document.

Neither is under ``/v1``, so the API key check (app/api/deps.py ``require_api_key``) lets them through:
they hold no data, and every figure on a page comes from the API with the key entered on the key page.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PATH = "/ui/static"
_SHELL_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def dashboard() -> HTMLResponse:
    """The dashboard's single page; its hash routes are drawn by /ui/static/js/main.js."""
    return HTMLResponse((STATIC_DIR / "index.html").read_text(encoding="utf-8"), headers=_SHELL_HEADERS)


def install_ui(app: FastAPI) -> None:
    """Serve the shell at ``/`` and the package's ``static/`` folder at ``/ui/static``."""
    if not (STATIC_DIR / "index.html").is_file():
        raise RuntimeError(f"the dashboard's assets are missing from {STATIC_DIR} (a broken install)")
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="ui-static")
    app.include_router(router)
