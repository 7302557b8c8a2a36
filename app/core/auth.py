"""API keys: off until one exists (or ``SI_REQUIRE_API_KEYS``), then required on every ``/v1`` route.

A key is ``si_`` + 43 random URL-safe characters, shown once when created (``selfinstruct keys create``);
only its SHA-256 and its first characters are stored. A key has one scope — ``read`` (GET), ``write``
(also POST, PUT, PATCH and DELETE of jobs, schedules, candidates …) or ``admin`` (also deleting a
dataset) — and is sent as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. No key, an unknown
or revoked key: 401; a key without the scope: 403. Keys never appear in logs or responses.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.core.errors import NotFound, ServiceError
from app.models.api_keys import SCOPES, ApiKey
from app.models.common import utcnow

KEY_PREFIX = "si_"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


@dataclass(frozen=True)
class Access:
    """What a request may do: whether keys are on, and the scope it holds (``admin`` with keys off)."""

    keys_required: bool
    scope: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def create_key(session: Session, name: str, scope: str) -> tuple[ApiKey, str]:
    """A new key: the stored row and the key itself (to show once; it cannot be recovered)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; scopes: {', '.join(SCOPES)}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=key[:10], key_hash=hash_key(key), scope=scope)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row, key


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))))


def revoke_key(session: Session, key_id: int) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} does not exist")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.commit()
    return row


def needed_scope(method: str, path: str) -> str:
    if method in ("GET", "HEAD", "OPTIONS"):
        return "read"
    if method == "DELETE" and path.rstrip("/").count("/") == 3 and path.startswith("/v1/datasets/"):
        return "admin"  # DELETE /v1/datasets/{name}
    return "write"


class KeyChecker:
    """Checks a request's key; whether keys are on is read from the database at most every ``ttl_s``."""

    def __init__(self, engine: Engine, required: bool, ttl_s: float = 2.0) -> None:
        self.engine, self.required, self.ttl_s = engine, required, ttl_s
        self._active: tuple[float, bool] | None = None
        self._lock = threading.Lock()

    def keys_on(self, session: Session) -> bool:
        if self.required:
            return True
        now = time.monotonic()
        with self._lock:
            if self._active is not None and now - self._active[0] < self.ttl_s:
                return self._active[1]
        active = session.exec(select(ApiKey.id).where(col(ApiKey.revoked_at).is_(None))).first() is not None
        with self._lock:
            self._active = (now, active)
        return active

    def forget(self) -> None:
        with self._lock:
            self._active = None

    def check(self, session: Session, key: str | None, method: str, path: str) -> Access:
        if not self.keys_on(session):
            return Access(keys_required=False, scope="admin")
        if not key:
            raise Unauthorized("an API key is required (Authorization: Bearer <key> or X-API-Key)")
        row = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).first()
        if row is None or row.revoked_at is not None:
            raise Unauthorized("the API key is not valid (unknown or revoked)")
        scope = needed_scope(method, path)
        if SCOPES.index(row.scope) < SCOPES.index(scope):
            raise Forbidden(f"the API key {row.prefix}… has scope {row.scope!r}; this needs {scope!r}")
        return Access(keys_required=True, scope=row.scope)
