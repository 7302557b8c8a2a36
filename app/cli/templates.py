"""``templates add|list|delete``: a dataset's prompt templates for the ``template`` strategy."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from app.cli.options import DatabaseOpt, DatasetOpt, fail


def add(
    dataset: DatasetOpt,
    name: Annotated[str, typer.Option(help="the template's name in the dataset")],
    text: Annotated[str, typer.Option(help="text with {slot} placeholders")],
    slot: Annotated[
        list[str],
        typer.Option(help="NAME=v1|v2|… (a value list) or NAME=@instructions / @instance_inputs; repeat"),
    ],
    database_url: DatabaseOpt = None,
) -> None:
    """Store a template in DATASET (checked as a job would use it)."""
    from pydantic import ValidationError

    from app.cli.runtime import dataset_reader
    from app.models import TemplateCreate
    from app.strategies import templates as service

    slots: dict[str, object] = {}
    for item in slot:
        key, _, values = item.partition("=")
        if values.startswith("@"):
            slots[key] = {"from": values[1:]}
        else:
            slots[key] = [v for v in values.split("|")] if values else []
    try:
        data = TemplateCreate.model_validate({"name": name, "text": text, "slots": slots})
    except ValidationError as exc:
        raise fail(str(exc)) from None
    with dataset_reader(database_url, dataset) as (session, ds):
        template = service.create_template(session, ds, data)
        typer.echo(f"template {template.name!r} ({template.id}) added to {ds.name}")


def list_templates(dataset: DatasetOpt, database_url: DatabaseOpt = None) -> None:
    """The dataset's templates, one JSON object a line."""
    from app.cli.runtime import dataset_reader
    from app.strategies import templates as service

    with dataset_reader(database_url, dataset) as (session, ds):
        for template in service.list_templates(session, ds):
            typer.echo(
                json.dumps(service.template_public(template, ds).model_dump(mode="json"), ensure_ascii=False)
            )


def delete(
    dataset: DatasetOpt,
    name: Annotated[str, typer.Argument(help="the template to delete")],
    database_url: DatabaseOpt = None,
) -> None:
    """Delete a template from DATASET."""
    from app.cli.runtime import dataset_reader
    from app.strategies import templates as service

    with dataset_reader(database_url, dataset) as (session, ds):
        service.delete_template(session, ds, name)
        typer.echo(f"template {name!r} deleted from {ds.name}")
