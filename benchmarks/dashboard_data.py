"""A dataset the size the dashboard must stay fast at, inserted in bulk: seeds, then ``n`` decided
candidates from a few jobs with mixed accepted/rejected rules, scores, strategies, lineage and (on
accepted rows, as the acceptor stores them) 384-float32 embeddings; a few reviews and task instances."""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from app.models import Dataset, Instruction, Job, Review, TaskInstance, utcnow
from generators.strategies.recipe import prompt_recipe
from generators.tasks import load_seed_file

DIMENSION = 384
REJECTING_RULES = (  # weights seen in real jobs: novelty first, then the quality rules
    ("rouge_l", 40),
    ("embedding", 12),
    ("statement", 10),
    ("exact_duplicate", 8),
    ("prompt_echo", 6),
    ("too_short", 6),
    ("unclosed_quote", 3),
    ("relevance", 3),
    ("judge", 2),
)
STRATEGIES = (("self_instruct", 70), ("evol", 15), ("template", 10), (None, 5))
VERBS = ("Explain", "Describe", "Write", "List", "Compare", "Summarize", "Classify", "Translate", "Suggest")
TOPICS = ("photosynthesis", "a budget", "compound interest", "the water cycle", "a haiku", "sorting", "tides")
OPERATIONS = (
    ("add_constraints", "depth"),
    ("deepen", "depth"),
    ("concretize", "depth"),
    ("mutate", "breadth"),
)


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _text(rng: random.Random, i: int) -> str:
    return f"{rng.choice(VERBS)} {rng.choice(TOPICS)} for reader {i} in {rng.randint(2, 9)} sentences."


def _lineage(rng: random.Random, strategy: str | None, parent: int) -> dict[str, Any] | None:
    if strategy == "self_instruct":
        return {
            "strategy": strategy,
            "example_choice": rng.choice(("uniform", "uniform", "diverse")),
            "example_ids": [rng.randint(1, parent) for _ in range(8)],
        }
    if strategy == "evol":
        operation, direction = rng.choice(OPERATIONS)
        return {"strategy": strategy, "operation": operation, "direction": direction, "parent_id": parent}
    if strategy == "template":
        return {
            "strategy": strategy,
            "template_id": 1,
            "template": rng.choice(("recipe", "email")),
            "slots": {},
        }
    return None


def build_dataset(engine: Engine, n: int, name: str = "big", jobs: int = 5, seed: int = 7) -> int:
    """Store the dataset; returns its id. Candidates are spread over ``jobs`` succeeded jobs."""
    rng = random.Random(seed)
    vectors = np.random.default_rng(seed)
    with Session(engine) as session:
        dataset = Dataset(
            name=name, description="100K benchmark", domain="general knowledge", judge_threshold=3.0
        )
        session.add(dataset)
        session.flush()
        dataset_id = int(dataset.id or 0)
        job_rows = [
            Job(dataset_id=dataset_id, target=n, max_requests=n, status="succeeded", requests=n // 10)
            for _ in range(jobs)
        ]
        session.add_all(job_rows)
        session.commit()
        job_ids = [int(j.id or 0) for j in job_rows]
    seeds = load_seed_file("seed_tasks/en_seed_tasks.jsonl")
    rows: list[dict[str, Any]] = []
    for task in seeds:
        rows.append(_row(dataset_id, "seed", task.instruction, True, vectors))
    with engine.begin() as connection:
        connection.execute(insert(Instruction), rows)
    first_id = len(seeds)
    accepted_ids: list[int] = []
    batch: list[dict[str, Any]] = []
    for i in range(n):
        row_id = first_id + i + 1
        row = _candidate(rng, vectors, dataset_id, row_id, job_ids[i * len(job_ids) // n], i)
        accepted = row["accepted"]
        if accepted:
            accepted_ids.append(row_id)
        batch.append(row)
        if len(batch) == 5000:
            with engine.begin() as connection:
                connection.execute(insert(Instruction), batch)
            batch = []
    if batch:
        with engine.begin() as connection:
            connection.execute(insert(Instruction), batch)
    _reviews_and_instances(engine, dataset_id, rng, accepted_ids, job_ids[0])
    if engine.dialect.name == "postgresql":  # as autovacuum leaves a table after a bulk load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    return dataset_id


def _candidate(
    rng: random.Random, vectors: np.random.Generator, dataset_id: int, row_id: int, job_id: int, i: int
) -> dict[str, Any]:
    """One decided candidate as the acceptor stores it (``row_id``: the id it will get, for neighbours)."""
    accepted = rng.random() < 0.3
    rule = None if accepted else _weighted(rng, REJECTING_RULES)
    strategy = _weighted(rng, STRATEGIES)
    row = _row(dataset_id, "generated" if strategy else "submitted", _text(rng, i), accepted, vectors)
    lineage = _lineage(rng, strategy, max(1, row_id - 1))
    rouge = round(rng.betavariate(2, 4) if rule != "rouge_l" else 0.7 + rng.random() * 0.3, 4)
    cosine = None if rule in ("too_short", "unclosed_quote", "exact_duplicate") else rng.random()
    row.update(
        rule=rule,
        job_id=job_id if strategy else None,
        strategy=strategy,
        lineage=lineage,
        recipe=prompt_recipe(strategy, lineage),
        max_rouge_l=rouge,
        rouge_neighbor_id=rng.randint(1, row_id - 1),
        max_cosine=None if cosine is None else round(cosine, 4),
        cosine_neighbor_id=None if cosine is None else rng.randint(1, row_id - 1),
        relevance=round(rng.uniform(-0.1, 0.9), 4),
        judge_score=float(rng.randint(1, 5)) if rng.random() < 0.5 else None,
        judge_expected=round(rng.uniform(1, 5), 3) if rng.random() < 0.5 else None,
        instance_stage="done" if accepted else None,
    )
    return row


def add_candidates(engine: Engine, dataset_id: int, count: int, job_id: int, seed: int) -> None:
    """``count`` more decided candidates of ``job_id``, committed at once (what a job adds between two
    views of its dataset)."""
    rng = random.Random(seed)
    vectors = np.random.default_rng(seed)
    with Session(engine) as session:
        newest = int(session.exec(select(func.max(Instruction.id))).one() or 1)
    rows = [_candidate(rng, vectors, dataset_id, newest + k + 1, job_id, newest + k) for k in range(count)]
    with engine.begin() as connection:
        connection.execute(insert(Instruction), rows)


def _row(dataset_id: int, origin: str, text: str, accepted: bool, vectors: np.random.Generator) -> dict:
    embedding = None
    if accepted:
        vector = vectors.standard_normal(DIMENSION).astype(np.float32)
        embedding = (vector / np.linalg.norm(vector)).astype(np.float32).tobytes()
    return {
        "dataset_id": dataset_id,
        "origin": origin,
        "instruction": text,
        "accepted": accepted,
        "embedding": embedding,
        "instances": json.loads('[{"input": "", "output": "An answer."}]') if origin == "seed" else None,
        "created_at": utcnow(),
    }


def _reviews_and_instances(
    engine: Engine, dataset_id: int, rng: random.Random, accepted_ids: list[int], job_id: int
) -> None:
    reviewed = rng.sample(accepted_ids, min(300, len(accepted_ids)))
    states = [rng.choice(("approved", "approved", "rejected", "edited")) for _ in reviewed]
    reviews = [
        {
            "dataset_id": dataset_id,
            "instruction_id": i,
            "state": state,
            "reviewer": "bench",
            "note": "",
            "edited_text": "An edited instruction." if state == "edited" else None,
            "created_at": utcnow(),
        }
        for i, state in zip(reviewed, states, strict=True)
    ]
    instances = [
        {
            "dataset_id": dataset_id,
            "instruction_id": i,
            "origin": "generated",
            "input": "",
            "output": "An output.",
            "accepted": True,
            "job_id": job_id,
            "judge_score": float(rng.randint(1, 5)),
            "created_at": utcnow(),
        }
        for i in accepted_ids[:2000]
    ]
    with engine.begin() as connection:
        if reviews:
            connection.execute(insert(Review), reviews)
        if instances:
            connection.execute(insert(TaskInstance), instances)
