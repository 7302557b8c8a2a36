"""Options shared by commands, and how a command fails."""

from __future__ import annotations

from typing import Annotated

import typer

DatabaseOpt = Annotated[str | None, typer.Option("--database-url", help="overrides SI_DATABASE_URL")]
DatasetOpt = Annotated[str, typer.Option("--dataset", "-d", help="dataset name")]
ReviewOpt = Annotated[
    list[str] | None, typer.Option(help="only rows in this review state (repeatable; default: not rejected)")
]
MinJudgeOpt = Annotated[float | None, typer.Option(help="only rows the judge scored at least this (1-5)")]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: MESSAGE`` to stderr; raise the returned exit (code 2: bad input, 1: the run failed)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)
