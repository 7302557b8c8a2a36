"""``replay`` and ``review queue|set|history|agreement``: re-deciding stored candidates and human review."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, cast

import typer

from app.cli.options import DatabaseOpt, DatasetOpt, fail

if TYPE_CHECKING:
    from pydantic import BaseModel

    from app.models.reviews import ReviewKind, ReviewState

_Model = TypeVar("_Model", bound="BaseModel")
KindOpt = Annotated[str, typer.Option(help="instruction or instance")]


def _validated(model: type[_Model], **values: Any) -> _Model:
    from pydantic import ValidationError

    try:
        return model(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()
        )
        raise fail(problems) from None


def _kind(kind: str) -> ReviewKind:
    if kind not in ("instruction", "instance"):
        raise fail(f"unknown kind {kind!r}; kinds: instruction, instance")
    return "instruction" if kind == "instruction" else "instance"


def replay(
    dataset: DatasetOpt,
    rouge_threshold: Annotated[float | None, typer.Option(help="new ROUGE-L threshold")] = None,
    embedding_threshold: Annotated[float | None, typer.Option(help="new cosine threshold")] = None,
    relevance_threshold: Annotated[float | None, typer.Option(help="new relevance threshold")] = None,
    judge_threshold: Annotated[float | None, typer.Option(help="new judge threshold (1-5)")] = None,
    disabled_rules: Annotated[
        str | None, typer.Option(help="comma-separated rule ids switched off (all of them; '' for none)")
    ] = None,
    reason: Annotated[str, typer.Option(help="kept with every changed decision")] = "",
    apply: Annotated[bool, typer.Option("--apply", help="store the decisions (default: a dry run)")] = False,
    examples: Annotated[int, typer.Option(help="examples per transition")] = 5,
    database_url: DatabaseOpt = None,
) -> None:
    """Re-decide DATASET's stored candidates with new thresholds or rules, calling no model; prints the
    report as JSON (a dry run unless --apply)."""
    from app.cli.runtime import dataset_session
    from app.models import ReplayRequest
    from app.review import replays

    rules = None if disabled_rules is None else [r.strip() for r in disabled_rules.split(",") if r.strip()]
    request = _validated(
        ReplayRequest,
        rouge_threshold=rouge_threshold,
        embedding_threshold=embedding_threshold,
        relevance_threshold=relevance_threshold,
        judge_threshold=judge_threshold,
        disabled_rules=rules,
        reason=reason,
        examples=examples,
    )
    with dataset_session(database_url, dataset, False) as (registry, session, ds, _):
        if apply:
            _, report = replays.apply(session, registry, ds, request)
        else:
            report = replays.dry_run(session, registry, ds, request)
    typer.echo(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False))


def queue(
    dataset: DatasetOpt,
    kind: KindOpt = "instruction",
    state: Annotated[str, typer.Option(help="unreviewed, approved, rejected, edited or any")] = "unreviewed",
    decision: Annotated[str, typer.Option(help="accepted, rejected or all")] = "accepted",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    sample: Annotated[int | None, typer.Option(min=1, help="a random audit sample of this size")] = None,
    seed: Annotated[int, typer.Option(min=0, help="the audit sample's seed")] = 0,
    database_url: DatabaseOpt = None,
) -> None:
    """What to review next, one JSON object a line: lowest judge confidence first, or an audit sample."""

    from app.cli.runtime import dataset_reader
    from app.models import REVIEW_STATES
    from app.review.reviews import review_queue

    if state not in (*REVIEW_STATES, "any"):
        raise fail(f"unknown state {state!r}; states: {', '.join(REVIEW_STATES)}, any")
    if decision not in ("accepted", "rejected", "all"):
        raise fail(f"unknown decision {decision!r}; decisions: accepted, rejected, all")
    with dataset_reader(database_url, dataset) as (session, ds):
        wanted = None if state == "any" else cast("ReviewState", state)
        chosen = cast('Literal["accepted", "rejected", "all"]', decision)
        found = review_queue(session, ds, _kind(kind), wanted, chosen, limit, sample, seed)
    for item in found.items:
        typer.echo(json.dumps(item.model_dump(mode="json"), ensure_ascii=False))


def set_review(
    dataset: DatasetOpt,
    state: Annotated[str, typer.Option(help="unreviewed, approved, rejected or edited")],
    reviewer: Annotated[str, typer.Option(help="who reviews")],
    instruction: Annotated[int | None, typer.Option(help="the instruction's id")] = None,
    instance: Annotated[int | None, typer.Option(help="the instance's id")] = None,
    note: Annotated[str, typer.Option()] = "",
    edited_text: Annotated[str | None, typer.Option(help="edited: the instruction or the output")] = None,
    edited_input: Annotated[str | None, typer.Option(help="edited: an instance's input")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Record a verdict on one instruction or instance of DATASET."""

    from app.cli.runtime import dataset_reader
    from app.models import ReviewCreate
    from app.review.reviews import record_review

    data = _validated(
        ReviewCreate,
        instruction_id=instruction,
        instance_id=instance,
        state=state,
        reviewer=reviewer,
        note=note,
        edited_text=edited_text,
        edited_input=edited_input,
    )
    with dataset_reader(database_url, dataset) as (session, ds):
        review = record_review(session, ds, data)
    target = f"instruction {instruction}" if instruction is not None else f"instance {instance}"
    typer.echo(f"review {review.id}: {target} is {state}")


def agreement(
    dataset: DatasetOpt,
    kind: KindOpt = "instruction",
    threshold: Annotated[
        float | None, typer.Option(help="default: the dataset's judge threshold, else the server's")
    ] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """How often the judge agrees with the reviewers: accuracy, Cohen's kappa, confusion table (JSON)."""

    from app.cli.runtime import command_settings, dataset_reader
    from app.review.agreement import agreement as judge_agreement

    if threshold is not None and not 1.0 <= threshold <= 5.0:
        raise fail(f"threshold {threshold} is outside the judge's 1-5")
    with dataset_reader(database_url, dataset) as (session, ds):
        result = judge_agreement(
            session, ds, _kind(kind), threshold, command_settings(database_url).judge_threshold
        )
    typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
