"""Datasets and their seeds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlmodel import select

from app.api.deps import DatasetDep, KeptStatsDep, PoolsDep, SessionDep, SettingsDep
from app.api.openapi import error_responses
from app.api.pagination import IdQuery
from app.core.errors import get_in_dataset
from app.datasets import service
from app.datasets import stats as stats_service
from app.jobs.saturation import DEFAULT_CURVE_WINDOW
from app.models import (
    Dataset,
    DatasetCreate,
    DatasetPublic,
    Job,
    SeedUpload,
    SeedUploadResult,
    stored_id,
)
from generators.tasks import Instance, Task

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=DatasetPublic, responses=error_responses(409)
)
def create_dataset(
    data: DatasetCreate, session: SessionDep, settings: SettingsDep, response: Response
) -> DatasetPublic:
    """Create an empty dataset (add seeds with POST …/seeds)."""
    dataset = service.create_dataset(session, data, settings)
    session.commit()
    response.headers["Location"] = f"/v1/datasets/{dataset.name}"
    return service.to_public(session, dataset)


@router.get("", response_model=list[DatasetPublic])
def list_datasets(session: SessionDep) -> list[DatasetPublic]:
    """All datasets with their counts."""
    rows = session.exec(select(Dataset).order_by(Dataset.name)).all()
    return [service.to_public(session, d) for d in rows]


@router.get("/{name}", response_model=DatasetPublic)
def read_dataset(dataset: DatasetDep, session: SessionDep) -> DatasetPublic:
    """One dataset with its counts."""
    return service.to_public(session, dataset)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(409))
def delete_dataset(dataset: DatasetDep, session: SessionDep, pools: PoolsDep) -> Response:
    """Delete a dataset and everything stored for it."""
    service.delete_dataset(session, pools, dataset)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{name}/stats")
def dataset_stats(
    dataset: DatasetDep,
    session: SessionDep,
    kept_stats: KeptStatsDep,
    window: Annotated[int, Query(ge=1, le=100000)] = DEFAULT_CURVE_WINDOW,
    breakdown: bool = False,
    job: IdQuery = None,
) -> dict[str, object]:
    """Counts per origin and decision, rejections per rule (and per job), instances per decision; score
    distributions (relevance, the judge's scores, the nearest neighbours' similarity, split by decision);
    candidates per strategy and prompt recipe; the novelty curve (share accepted per ``window``
    candidates), diversity, and with ``breakdown`` the verb–object pairs. ``job``: that job's rejections
    per rule and score distributions too."""
    stats = stats_service.dataset_stats(session, dataset, window, breakdown, kept_stats)
    if job is not None:
        get_in_dataset(session, Job, job, dataset, "job")
        stats["job"] = stats_service.job_stats(session, stored_id(dataset), job)
    return stats


@router.post("/{name}/seeds", response_model=SeedUploadResult)
def upload_seeds(
    upload: SeedUpload, dataset: DatasetDep, session: SessionDep, pools: PoolsDep
) -> SeedUploadResult:
    """Add seed tasks to the dataset's pool; exact duplicates of pool items are skipped."""
    tasks = [
        Task(
            instruction=t.instruction.strip(),
            is_classification=t.is_classification,
            name=t.name,
            instances=tuple(Instance(i.input, i.output) for i in t.instances),
        )
        for t in upload.tasks
    ]
    added, skipped = service.add_seeds(session, pools, dataset, tasks)
    counts = service.dataset_counts(session, stored_id(dataset))
    return SeedUploadResult(added=added, skipped_duplicates=skipped, seed_count=counts["seed_count"])
