"""``selfinstruct replay`` and ``selfinstruct review …`` on a real database, and the score-filtered export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from app.core.db import make_engine
from app.models import Instruction
from tests.app.api.test_replays import C1, C2, C3, SEEDS
from tests.app.cli.test_commands import invoke


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[str, dict[str, int]]:
    """A dataset ``cli`` with two seeds and C1, C2, C3 ingested in that order; C1 judged 2, C2 judged 4."""
    url = f"sqlite:///{tmp_path}/cli.db"
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(
        "".join(
            json.dumps(
                {"instruction": s, "instances": [{"input": "", "output": "x"}], "is_classification": False}
            )
            + "\n"
            for s in SEEDS
        )
    )
    candidates = tmp_path / "candidates.jsonl"
    candidates.write_text("".join(json.dumps({"instruction": t}) + "\n" for t in (C1, C2, C3)))
    result = invoke(
        "ingest", str(candidates), "--dataset", "cli", "--seeds", str(seeds), "--database-url", url
    )
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    with Session(engine) as session:
        ids = {
            r.instruction: r.id for r in session.exec(select(Instruction).where(Instruction.origin != "seed"))
        }
        session.exec(update(Instruction).where(col(Instruction.id) == ids[C1]).values(judge_score=2.0))
        session.exec(update(Instruction).where(col(Instruction.id) == ids[C2]).values(judge_score=4.0))
        session.commit()
    engine.dispose()
    return url, ids


def decisions(url: str) -> dict[str, tuple[bool, str | None]]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.exec(select(Instruction).where(Instruction.origin != "seed")).all()
        found = {r.instruction: (r.accepted, r.rule) for r in rows}
    engine.dispose()
    return found


def test_replay_dry_run_then_apply(dataset):
    url, _ = dataset
    before = decisions(url)
    dry = invoke("replay", "--dataset", "cli", "--judge-threshold", "3", "--database-url", url)
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.output)
    assert (report["applied"], report["flipped"]) == (False, 2)
    assert decisions(url) == before
    applied = invoke("replay", "--dataset", "cli", "--judge-threshold", "3", "--apply", "--database-url", url)
    assert applied.exit_code == 0 and json.loads(applied.output)["applied"] is True
    assert decisions(url) == {C1: (False, "judge"), C2: (True, None), C3: (True, None)}
    bad = invoke("replay", "--dataset", "cli", "--judge-threshold", "9", "--database-url", url)
    assert bad.exit_code == 2 and "judge_threshold" in bad.output
    unknown = invoke("replay", "--dataset", "cli", "--disabled-rules", "nope", "--database-url", url)
    assert unknown.exit_code == 2 and "nope" in unknown.output


def test_review_queue_verdicts_and_agreement(dataset):
    url, ids = dataset
    queue = invoke("review", "queue", "--dataset", "cli", "--database-url", url)
    assert queue.exit_code == 0, queue.output
    assert [json.loads(line)["id"] for line in queue.output.splitlines()] == [ids[C1], ids[C2]]
    for target, state in ((ids[C1], "rejected"), (ids[C2], "approved")):
        result = invoke(
            "review", "set", "--dataset", "cli", "--instruction", str(target), "--state", state,
            "--reviewer", "ana", "--database-url", url,
        )  # fmt: skip
        assert result.exit_code == 0 and f"is {state}" in result.output
    empty = invoke(
        "review", "set", "--dataset", "cli", "--instruction", str(ids[C1]), "--state", "edited",
        "--reviewer", "ana", "--edited-text", " ", "--database-url", url,
    )  # fmt: skip
    assert empty.exit_code == 2 and "edited_text" in empty.output
    missing = invoke(
        "review", "set", "--dataset", "cli", "--instruction", "999", "--state", "approved",
        "--reviewer", "ana", "--database-url", url,
    )  # fmt: skip
    assert missing.exit_code == 2 and "999" in missing.output
    result = invoke("review", "agreement", "--dataset", "cli", "--threshold", "3", "--database-url", url)
    body = json.loads(result.output)
    assert (body["items"], body["accuracy"], body["cohen_kappa"]) == (2, 1.0, 1.0)
    assert invoke("review", "queue", "--dataset", "cli", "--database-url", url).output == ""
