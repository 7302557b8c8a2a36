"""A dataset's prompt templates: create (checked like a job would use them), list, delete."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.core.errors import Conflict, InvalidInput, NotFound
from app.models import Dataset, Template, TemplateCreate, TemplatePublic, stored_id
from generators.strategies import StrategyError
from generators.strategies.template import check_template


def create_template(session: Session, dataset: Dataset, data: TemplateCreate) -> Template:
    lists = {n: v for n, v in data.slots.items() if isinstance(v, list)}
    stored = {n: "stored values" for n in data.slots if n not in lists}  # checked when a job starts
    try:
        check_template(data.text, {**lists, **{n: [v] for n, v in stored.items()}})
    except StrategyError as exc:
        raise InvalidInput(str(exc)) from None
    if find_template(session, dataset, data.name) is not None:
        raise Conflict(f"template {data.name!r} already exists in dataset {dataset.name!r}")
    slots: dict[str, object] = {
        n: (list(v) if isinstance(v, list) else v.model_dump(by_alias=True)) for n, v in data.slots.items()
    }
    template = Template(dataset_id=stored_id(dataset), name=data.name, text=data.text, slots=slots)
    session.add(template)
    session.commit()
    return template


def find_template(session: Session, dataset: Dataset, name: str) -> Template | None:
    query = select(Template).where(col(Template.dataset_id) == dataset.id, col(Template.name) == name)
    return session.exec(query).first()


def list_templates(session: Session, dataset: Dataset) -> list[Template]:
    query = select(Template).where(col(Template.dataset_id) == dataset.id).order_by(col(Template.id))
    return list(session.exec(query))


def delete_template(session: Session, dataset: Dataset, name: str) -> None:
    template = find_template(session, dataset, name)
    if template is None:
        raise NotFound(f"template {name!r} does not exist in dataset {dataset.name!r}")
    session.delete(template)
    session.commit()


def template_public(template: Template, dataset: Dataset) -> TemplatePublic:
    return TemplatePublic.model_validate(template, update={"dataset": dataset.name})
