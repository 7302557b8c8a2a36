"""A dataset's prompt templates (the ``template`` strategy)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.api.deps import DatasetDep, SessionDep
from app.models import TemplateCreate, TemplatePublic
from app.strategies import templates

router = APIRouter(prefix="/v1/datasets", tags=["templates"])


@router.post("/{name}/templates", status_code=status.HTTP_201_CREATED, response_model=TemplatePublic)
def create_template(
    data: TemplateCreate, dataset: DatasetDep, session: SessionDep, response: Response
) -> TemplatePublic:
    """Store a template: text with ``{slot}``s and each slot's values (a list, or drawn from the dataset)."""
    template = templates.create_template(session, dataset, data)
    response.headers["Location"] = f"/v1/datasets/{dataset.name}/templates/{template.name}"
    return templates.template_public(template, dataset)


@router.get("/{name}/templates", response_model=list[TemplatePublic])
def list_templates(dataset: DatasetDep, session: SessionDep) -> list[TemplatePublic]:
    """The dataset's templates in creation order."""
    return [templates.template_public(t, dataset) for t in templates.list_templates(session, dataset)]


@router.delete("/{name}/templates/{template}", status_code=status.HTTP_204_NO_CONTENT)
def delete_template(template: str, dataset: DatasetDep, session: SessionDep) -> Response:
    """Delete one template (jobs already created keep the candidates they made)."""
    templates.delete_template(session, dataset, template)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
