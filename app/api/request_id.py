"""Each HTTP request's id: the client's ``X-Request-ID`` when it is a sensible token, else a new one.

The id is set in the logging context (app/core/logging.py) for everything logged while the request is
handled, and returned in the response's ``X-Request-ID`` header, so a client can quote it and an
operator find its lines.
"""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import request_id

HEADER = "x-request-id"
ACCEPTED = re.compile(r"[A-Za-z0-9._:\-]{1,128}")  # anything else (or nothing) gets a generated id


def incoming_request_id(scope: Scope) -> str:
    """The request's ``X-Request-ID`` if it is 1–128 of ``A-Z a-z 0-9 . _ : -``, else a new uuid4 hex."""
    for name, value in scope.get("headers", ()):
        if name == HEADER.encode():
            text = value.decode("latin-1")
            if ACCEPTED.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


class RequestId:
    """Pure ASGI middleware (streams pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        value = incoming_request_id(scope)
        token = request_id.set(value)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = value
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            request_id.reset(token)
