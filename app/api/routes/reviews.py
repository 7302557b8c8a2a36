"""Human review: verdicts, each target's history, the review queue and the judge–reviewer agreement."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from app.api.deps import DatasetDep, SessionDep, SettingsDep
from app.api.pagination import IdQuery
from app.core.errors import InvalidInput
from app.models import Agreement, ReviewCreate, ReviewPublic, ReviewQueue
from app.models.reviews import ReviewKind, ReviewState
from app.review import reviews
from app.review.agreement import agreement

router = APIRouter(prefix="/v1/datasets/{name}", tags=["reviews"])

JudgeScore = Annotated[float | None, Query(ge=1.0, le=5.0)]


@router.post("/reviews", status_code=status.HTTP_201_CREATED, response_model=ReviewPublic)
def create_review(
    data: ReviewCreate, dataset: DatasetDep, session: SessionDep, response: Response
) -> ReviewPublic:
    """Record a verdict on an instruction or an instance (its new current state)."""
    review = reviews.record_review(session, dataset, data)
    response.headers["Location"] = f"/v1/datasets/{dataset.name}/reviews?{_target(data)}"
    return reviews.review_public(review, dataset)


def _target(data: ReviewCreate) -> str:
    if data.instruction_id is not None:
        return f"instruction_id={data.instruction_id}"
    return f"instance_id={data.instance_id}"


@router.get("/reviews", response_model=list[ReviewPublic])
def review_history(
    dataset: DatasetDep, session: SessionDep, instruction_id: IdQuery = None, instance_id: IdQuery = None
) -> list[ReviewPublic]:
    """One instruction's or instance's reviews, oldest first (the last is its current state)."""
    if (instruction_id is None) == (instance_id is None):
        raise InvalidInput("give exactly one of instruction_id and instance_id")
    kind: ReviewKind = "instruction" if instruction_id is not None else "instance"
    target = instruction_id or instance_id or 0
    return [reviews.review_public(r, dataset) for r in reviews.history(session, dataset, kind, target)]


@router.get("/review-queue", response_model=ReviewQueue)
def review_queue(
    dataset: DatasetDep,
    session: SessionDep,
    kind: ReviewKind = "instruction",
    state: ReviewState | Literal["any"] = "unreviewed",
    decision: Literal["accepted", "rejected", "all"] = "accepted",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    sample: Annotated[int | None, Query(ge=1, le=10000, description="a random audit sample")] = None,
    seed: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> ReviewQueue:
    """What to review next: lowest judge confidence first (unjudged last), or a seeded random sample."""
    wanted = None if state == "any" else state
    return reviews.review_queue(session, dataset, kind, wanted, decision, limit, sample, seed)


@router.get("/agreement", response_model=Agreement)
def judge_agreement(
    dataset: DatasetDep,
    session: SessionDep,
    settings: SettingsDep,
    kind: ReviewKind = "instruction",
    threshold: JudgeScore = None,
) -> Agreement:
    """How often the judge (accept at the dataset's judge threshold, else the server's) agrees with the
    reviewers."""
    return agreement(session, dataset, kind, threshold, settings.judge_threshold)
