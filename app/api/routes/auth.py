"""What the caller's API key may do, so a client (the dashboard) knows whether to ask for a key and
whether to offer writes."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import AccessDep
from app.models.api_keys import AuthPublic

router = APIRouter(prefix="/v1", tags=["auth"])


@router.get("/auth", response_model=AuthPublic)
def read_auth(access: AccessDep) -> AuthPublic:
    """Whether keys are required and the scope of the key sent (401 without a valid one when required)."""
    return AuthPublic(keys_required=access.keys_required, scope=access.scope)  # type: ignore[arg-type]
