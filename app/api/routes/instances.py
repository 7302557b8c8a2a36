"""Generated and imported instances of a dataset's tasks, with their filter decisions."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlmodel import select

from app.api.deps import DatasetDep, JobsDep, SessionDep, SettingsDep
from app.api.pagination import DecisionParam, IdQuery, LimitParam, decision_filter, keyset_page
from app.jobs.service import job_public
from app.models import InstanceJobCreate, JobPublic, TaskInstance, TaskInstancePage, TaskInstancePublic
from app.pipeline.instance_stage import create_instance_job

router = APIRouter(prefix="/v1/datasets/{name}", tags=["instances"])


@router.get("/instances", response_model=TaskInstancePage)
def list_instances(
    dataset: DatasetDep,
    session: SessionDep,
    decision: DecisionParam = "accepted",
    rule: str | None = None,
    instruction_id: IdQuery = None,
    limit: LimitParam = 100,
    cursor: str | None = None,
) -> TaskInstancePage:
    """Instances in id order; filter by decision, rule id or task."""
    query = select(TaskInstance).where(TaskInstance.dataset_id == dataset.id)
    query = decision_filter(query, TaskInstance, decision, rule)
    if instruction_id is not None:
        query = query.where(TaskInstance.instruction_id == instruction_id)
    rows, next_cursor = keyset_page(session, query, TaskInstance, limit, cursor)
    return TaskInstancePage(
        items=[TaskInstancePublic.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.post("/instances", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
def start_instance_job(
    dataset: DatasetDep,
    session: SessionDep,
    settings: SettingsDep,
    jobs: JobsDep,
    response: Response,
    data: InstanceJobCreate | None = None,
) -> JobPublic:
    """Queue a job that classifies and instantiates every accepted task still waiting for instances."""
    k = (data.instances_per_task if data else None) or settings.instances_per_task
    job = create_instance_job(session, dataset, k)
    jobs.notify_new_job()
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return job_public(job, dataset.name)
