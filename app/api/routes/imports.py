"""Imports of Alpaca, ShareGPT and Self-Instruct files (the request body is the file)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from app.api.deps import DatasetDep, PoolsDep, SessionDep, SettingsDep
from app.core.errors import InvalidInput
from app.exports import imports as service

router = APIRouter(prefix="/v1/datasets/{name}", tags=["imports"])


@router.post("/imports")
async def import_file(
    request: Request,
    dataset: DatasetDep,
    session: SessionDep,
    settings: SettingsDep,
    pools: PoolsDep,
    format: Literal["alpaca", "sharegpt", "self-instruct"],
    mode: Literal["seeds", "candidates"] = "candidates",
) -> dict[str, object]:
    """Add a file's tasks as seeds or decide them as candidates; a bad file stores nothing."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_import_bytes:
        raise InvalidInput(f"the file is larger than {settings.max_import_bytes} bytes")
    body = await request.body()
    if len(body) > settings.max_import_bytes:
        raise InvalidInput(f"the file is larger than {settings.max_import_bytes} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"upload:0: not UTF-8 text ({exc.reason})") from None
    tasks = service.read_import(text, "upload", format, mode)
    result = await run_in_threadpool(service.store_import, session, pools, dataset, tasks, format, mode)
    return asdict(result)
