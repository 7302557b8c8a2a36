"""Generated and imported instances of a dataset's tasks, with their filter decisions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlmodel import select

from app.api.deps import DatasetDep, SessionDep
from app.api.pagination import keyset_page
from app.models import TaskInstance, TaskInstancePage, TaskInstancePublic

router = APIRouter(prefix="/v1/datasets/{name}", tags=["instances"])


@router.get("/instances", response_model=TaskInstancePage)
def list_instances(
    dataset: DatasetDep,
    session: SessionDep,
    decision: Literal["accepted", "rejected", "all"] = "accepted",
    rule: str | None = None,
    instruction_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> TaskInstancePage:
    """Instances in id order; filter by decision, rule id or task."""
    query = select(TaskInstance).where(TaskInstance.dataset_id == dataset.id)
    if decision != "all":
        query = query.where(TaskInstance.accepted == (decision == "accepted"))
    if rule is not None:
        query = query.where(TaskInstance.rule == rule)
    if instruction_id is not None:
        query = query.where(TaskInstance.instruction_id == instruction_id)
    rows, next_cursor = keyset_page(session, query, TaskInstance, limit, cursor)
    return TaskInstancePage(
        items=[TaskInstancePublic.model_validate(r) for r in rows], next_cursor=next_cursor
    )
