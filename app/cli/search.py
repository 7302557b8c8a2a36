"""``search``: the pool items most similar to a query."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.options import DatabaseOpt, DatasetOpt
from app.core.limits import MAX_K


def search(
    query: Annotated[str, typer.Argument(help="text to look for")],
    dataset: DatasetOpt,
    k: Annotated[int, typer.Option("-k", min=1, max=MAX_K, help="results")] = 10,
    database_url: DatabaseOpt = None,
) -> None:
    """Print the K pool items most similar to QUERY."""
    from sqlmodel import Session

    from app.cli.runtime import command_services, command_settings
    from app.core.logging import configure_logging
    from app.datasets import service as datasets_service
    from app.retrieval.similarity import similar

    settings = command_settings(database_url)
    configure_logging("WARNING")
    with command_services(settings) as services:
        registry = services.require_pools().registry
        with Session(services.engine) as session:
            ds = datasets_service.get_dataset(session, dataset)
        for item in similar(registry, registry.get(ds), query, k):
            typer.echo(f"{item.score:.4f}\t{item.id}\t{item.origin}\t{item.instruction}")
