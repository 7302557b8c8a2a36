"""Stored instructions (cursor pagination), candidate submission and similarity search."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from sqlmodel import select

from app.api.admission import admitted
from app.api.deps import DatasetDep, PoolDep, PoolsDep, SessionDep, SimilarityDep
from app.api.openapi import error_responses
from app.api.pagination import DecisionParam, IdPath, LimitParam, decision_filter, keyset_page
from app.core.errors import InvalidInput, get_in_dataset
from app.core.limits import MAX_K
from app.models import (
    CandidateResult,
    CandidateSubmit,
    Instruction,
    InstructionPage,
    InstructionPublic,
    SimilarResult,
)
from app.models.instructions import MAX_INSTRUCTION_CHARS
from app.pipeline.acceptor import CandidateIn, decide_and_store, decision_public

router = APIRouter(prefix="/v1/datasets/{name}", tags=["instructions"])


@router.get("/instructions", response_model=InstructionPage)
def list_instructions(
    dataset: DatasetDep,
    session: SessionDep,
    decision: DecisionParam = "accepted",
    rule: str | None = None,
    reason: Annotated[str | None, Query(deprecated=True, description="old name of 'rule'")] = None,
    origin: Literal["seed", "generated", "submitted", "ingested"] | None = None,
    limit: LimitParam = 100,
    cursor: str | None = None,
) -> InstructionPage:
    """Instructions in id order; ``decision`` and ``rule`` filter by decision."""
    query = select(Instruction).where(Instruction.dataset_id == dataset.id)
    query = decision_filter(query, Instruction, decision, rule or reason)
    if origin is not None:
        query = query.where(Instruction.origin == origin)
    rows, next_cursor = keyset_page(session, query, Instruction, limit, cursor)
    items = [InstructionPublic.model_validate(r, update={"dataset": dataset.name}) for r in rows]
    return InstructionPage(items=items, next_cursor=next_cursor)


@router.get("/instructions/{instruction_id}", response_model=InstructionPublic)
def read_instruction(instruction_id: IdPath, dataset: DatasetDep, session: SessionDep) -> InstructionPublic:
    """One stored instruction with its decision, scores, neighbours and lineage."""
    row = get_in_dataset(session, Instruction, instruction_id, dataset, "instruction")
    return InstructionPublic.model_validate(row, update={"dataset": dataset.name})


@router.post(
    "/candidates",
    response_model=CandidateResult,
    responses=error_responses(429, 503),
    dependencies=[Depends(admitted("candidates"))],
)
def submit_candidates(
    data: CandidateSubmit, dataset: DatasetDep, session: SessionDep, pools: PoolsDep
) -> CandidateResult:
    """Run texts through the dataset's filter chain in order; one decision each, all stored."""
    if any(not text.strip() for text in data.instructions):
        position = next(i for i, t in enumerate(data.instructions) if not t.strip())
        raise InvalidInput(f"instructions[{position}] is empty")
    pool = pools.get(dataset)
    outcomes = decide_and_store(
        session,
        pools,
        pool,
        [CandidateIn(t.strip(), "submitted") for t in data.instructions],
    )
    decisions = [decision_public(o) for o in outcomes]
    accepted = sum(d.accepted for d in decisions)
    return CandidateResult(decisions=decisions, accepted=accepted, rejected=len(decisions) - accepted)


@router.get(
    "/similar",
    response_model=SimilarResult,
    responses=error_responses(429, 503),
    dependencies=[Depends(admitted("similar"))],
)
async def similar_instructions(
    pool: PoolDep,
    similarity: SimilarityDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_INSTRUCTION_CHARS)],
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
) -> SimilarResult:
    """The ``k`` pool items (seeds and accepted) closest to ``q`` by cosine, best first."""
    return SimilarResult(query=q, items=await similarity.similar(pool, q, k))
