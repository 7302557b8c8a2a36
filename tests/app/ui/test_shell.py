"""The dashboard's shell and assets: served from the installed package without an API key (they hold no
data), kept out of the OpenAPI document, while every /v1 route still wants the key."""

from __future__ import annotations

import re

from app.ui.routes import STATIC_DIR
from tests.conftest import assert_error


async def test_shell_and_assets_need_no_key_while_the_api_does(client_for, settings):
    async with client_for(settings_=settings.model_copy(update={"require_api_keys": True})) as client:
        shell = await client.get("/")
        assert shell.status_code == 200 and shell.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/ui/static/js/main.js">' in shell.text
        # every asset the shell and the modules name is served, and nothing comes from another host
        assert not re.search(r"(src|href)=\"(https?:)?//", shell.text)
        for path in sorted(STATIC_DIR.rglob("*.*")):
            served = await client.get(f"/ui/static/{path.relative_to(STATIC_DIR).as_posix()}")
            assert served.status_code == 200, path
            assert served.content == path.read_bytes()
            assert "cdn" not in served.text.lower() and "https://" not in served.text, path
        assert_error(await client.get("/v1/datasets"), 401, "unauthorized")
        assert_error(await client.get("/ui/static/js/absent.js"), 404, "not_found")
        paths = (await client.get("/openapi.json", headers={})).json()["paths"]
        assert "/" not in paths and not any(p.startswith("/ui") for p in paths)


def test_every_module_the_scripts_import_is_shipped():
    modules = {p.relative_to(STATIC_DIR).as_posix() for p in STATIC_DIR.rglob("*.js")}
    for path in STATIC_DIR.rglob("*.js"):
        for target in re.findall(r'from "(\.[^"]+)"', path.read_text()):
            resolved = (path.parent / target).resolve().relative_to(STATIC_DIR.resolve()).as_posix()
            assert resolved in modules, (path, target)
