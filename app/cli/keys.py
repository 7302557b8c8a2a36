"""``keys create|list|revoke``: API keys (app/core/auth.py). The key is printed once, at creation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.options import DatabaseOpt, fail

if TYPE_CHECKING:
    from sqlmodel import Session

keys_app = typer.Typer(no_args_is_help=True, help="Create, list and revoke API keys.")


def _session(database_url: str | None) -> Session:
    from sqlmodel import Session

    from app.cli.runtime import command_settings
    from app.core.db import create_tables, make_engine

    engine = make_engine(command_settings(database_url).database_url)
    create_tables(engine)
    return Session(engine)


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="who or what the key is for")],
    scope: Annotated[str, typer.Option(help="read, write or admin (each includes the ones before)")] = "read",
    database_url: DatabaseOpt = None,
) -> None:
    """Create a key and print it (only now: it is stored hashed)."""
    from app.core import auth
    from app.models.api_keys import SCOPES

    if scope not in SCOPES:
        raise fail(f"unknown scope {scope!r}; scopes: {', '.join(SCOPES)}")
    with _session(database_url) as session:
        row, key = auth.create_key(session, name[:64], scope)
        typer.echo(f"key {row.id} ({row.name}, scope {row.scope}): {key}")
        typer.echo("store it now: it is not shown again", err=True)


@keys_app.command("list")
def list_keys(database_url: DatabaseOpt = None) -> None:
    """Every key: id, name, scope, prefix, created, revoked (never the key)."""
    from app.core import auth

    with _session(database_url) as session:
        for row in auth.list_keys(session):
            revoked = row.revoked_at.isoformat() if row.revoked_at else "active"
            typer.echo(
                f"{row.id}\t{row.name}\t{row.scope}\t{row.prefix}…\t{row.created_at.isoformat()}\t{revoked}"
            )


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[int, typer.Argument(help="the key's id (keys list)")], database_url: DatabaseOpt = None
) -> None:
    """Revoke a key; requests with it get 401 from then on."""
    from app.core import auth
    from app.core.errors import NotFound

    with _session(database_url) as session:
        try:
            row = auth.revoke_key(session, key_id)
        except NotFound as exc:
            raise fail(exc.message) from None
        typer.echo(f"key {row.id} ({row.name}) revoked")
