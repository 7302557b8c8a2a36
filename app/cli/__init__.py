"""``selfinstruct``: serve, generate, ingest, search, seeds, replay and review from the command line.

One module per group of commands; each command gets its services from
:func:`app.cli.runtime.command_services`, which stops them when the command ends.
"""

from __future__ import annotations

import typer

from app.cli import data, generate, ingest, instances, review, search, serve
from app.cli import templates as template_commands
from app.cli.generate import server_sent_events
from app.cli.keys import keys_app
from app.cli.serve import run_worker

__all__ = ["app", "main", "run_worker", "server_sent_events"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Self-Instruct service: generate, filter, store and search instructions.",
)
seeds_app = typer.Typer(no_args_is_help=True, help="Check seed files and add them to datasets.")
app.add_typer(seeds_app, name="seeds")
app.add_typer(keys_app, name="keys")

app.command()(serve.serve)
app.command()(serve.worker)
app.command()(generate.generate)
app.command()(instances.instances)
app.command()(ingest.ingest)
app.command("import")(data.import_file)
app.command()(search.search)
seeds_app.command("check")(data.seeds_check)
seeds_app.command("add")(data.seeds_add)
app.command()(data.export)
app.command()(data.snapshot)
templates_app = typer.Typer(
    no_args_is_help=True, help="A dataset's prompt templates (the template strategy)."
)
app.add_typer(templates_app, name="templates")
templates_app.command("add")(template_commands.add)
templates_app.command("list")(template_commands.list_templates)
templates_app.command("delete")(template_commands.delete)
app.command()(review.replay)
review_app = typer.Typer(no_args_is_help=True, help="Human review: the queue, verdicts, judge agreement.")
app.add_typer(review_app, name="review")
review_app.command("queue")(review.queue)
review_app.command("set")(review.set_review)
review_app.command("agreement")(review.agreement)


def main() -> None:
    app()
