"""``RequestGuard``: the limits of app/core/limits.py, applied to every request before any route runs.

- The URL path and every query parameter follow the text rule and are at most ``SI_MAX_TEXT_CHARS``.
- A write's body is at most ``SI_MAX_BODY_BYTES``: 413 otherwise, whether declared by ``Content-Length``
  or streamed (``…/imports``, whose body is a file: ``SI_MAX_IMPORT_BYTES``, 422 as that route says it).
- A non-empty body of any other write must be JSON (``Content-Type: application/json``, else 415), must
  parse (400 naming line and column), nest at most ``SI_MAX_JSON_DEPTH`` deep and hold only strings the
  text rule allows, none longer than ``SI_MAX_TEXT_CHARS`` (422 naming the field).

A plain ASGI middleware, so streamed responses (events, exports) pass through untouched.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response
from app.core.limits import forbidden_character, json_problem
from app.core.settings import Settings

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def _field(path: str) -> str:
    return path.removeprefix("body.") if path != "body" else "body"


class RequestGuard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            self._check_url(scope)
            if scope["method"] in WRITE_METHODS:
                body = await self._read_body(scope, receive)
                self._check_body(scope, body)
                receive = _replay(body, receive)
        except _Refused as refused:
            response = error_response(refused.status, refused.code, refused.message, refused.details)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _check_url(self, scope: Scope) -> None:
        limit = self.settings.max_text_chars
        problem = forbidden_character(scope["path"])
        if problem:
            raise _Refused(
                422, "validation_error", f"path: {problem}", [{"field": "path", "message": problem}]
            )
        query = scope.get("query_string", b"").decode("latin-1")
        for key, value in parse_qsl(query, keep_blank_values=True):
            problem = forbidden_character(key) or forbidden_character(value)
            if problem is None and len(value) > limit:
                problem = f"is longer than {limit} characters ({len(value)})"
            if problem:
                message = f"{key}: {problem}"
                raise _Refused(422, "validation_error", message, [{"field": key, "message": problem}])

    def _limit(self, scope: Scope) -> int:
        if scope["path"].rstrip("/").endswith("/imports"):
            return self.settings.max_import_bytes
        return self.settings.max_body_bytes

    def _too_large(self, scope: Scope, limit: int) -> _Refused:
        if scope["path"].rstrip("/").endswith("/imports"):  # as the import route words it
            return _Refused(422, "invalid_input", f"the file is larger than {limit} bytes")
        return _Refused(413, "payload_too_large", f"the body is larger than {limit} bytes")

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self._limit(scope)
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(scope, limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise self._too_large(scope, limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _check_body(self, scope: Scope, body: bytes) -> None:
        if not body or scope["path"].rstrip("/").endswith("/imports"):
            return  # an import's body is a file, checked line by line by the import itself
        content_type = _header(scope, b"content-type").split(";")[0].strip().lower()
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise _Refused(
                415,
                "unsupported_media_type",
                f"the body must be JSON with Content-Type: application/json (got {content_type or 'none'!r})",
            )
        try:
            document = json.loads(body)
        except UnicodeDecodeError as exc:
            raise _Refused(400, "invalid_json", f"the body must be JSON in UTF-8 ({exc.reason})") from None
        except json.JSONDecodeError as exc:
            raise _Refused(
                400,
                "invalid_json",
                f"the body must be JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                [{"field": "body", "line": exc.lineno, "column": exc.colno, "message": exc.msg}],
            ) from None
        except RecursionError:
            depth = self.settings.max_json_depth
            raise _Refused(422, "validation_error", f"body: nests deeper than {depth} levels") from None
        found = json_problem(document, self.settings.max_json_depth, self.settings.max_text_chars)
        if found:
            field, problem = _field(found[0]), found[1]
            raise _Refused(
                422, "validation_error", f"{field}: {problem}", [{"field": field, "message": problem}]
            )


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


def _replay(body: bytes, downstream: Receive) -> Receive:
    """The body once, then what the client sends next (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await downstream()

    return receive
