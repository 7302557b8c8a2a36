"""``Instruction.instance_stage`` is what says a task waits for the instance stage, not its ``instances``."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.datasets.service import get_dataset
from app.models import Instruction, TaskInstance, initial_instance_stage
from app.pipeline.acceptor import CandidateIn, decide_and_store
from app.pipeline.instance_stage import InstanceStage, pending_tasks
from app.services import build_services
from generators.backends.fake import FakeBackend

SOME_INSTANCES = [{"input": "", "output": "Paris"}]


def test_only_accepted_non_seed_rows_start_pending():
    assert initial_instance_stage("generated", True) == "pending"
    assert initial_instance_stage("submitted", True) == "pending"
    assert initial_instance_stage("ingested", True) == "pending"
    assert initial_instance_stage("generated", False) is None
    assert initial_instance_stage("seed", True) is None


def task(dataset_id: int, text: str, stage: str | None, instances: list | None) -> Instruction:
    return Instruction(
        dataset_id=dataset_id,
        origin="generated",
        instruction=text,
        accepted=True,
        instances=instances,
        instance_stage=stage,
    )


def test_pending_tasks_follow_the_stage_state_not_the_instances(settings, embedder) -> None:
    services = build_services(settings, embedder, FakeBackend(), ensure_default=True)
    try:
        with Session(services.engine, expire_on_commit=False) as session:
            dataset = get_dataset(session, "default")
            rows = [
                task(dataset.id, "Pending although it has instances.", "pending", SOME_INSTANCES),
                task(dataset.id, "Done although its instances are null.", "done", None),
                task(dataset.id, "Pending with no instances.", "pending", None),
            ]
            session.add_all(rows)
            session.commit()
            assert pending_tasks(session, dataset.id) == [rows[0].id, rows[2].id]
            assert pending_tasks(session, dataset.id, limit=1) == [rows[0].id]
            seeds = session.exec(select(Instruction).where(Instruction.origin == "seed")).all()
            assert seeds and all(s.instance_stage is None and s.instances for s in seeds)
    finally:
        services.stop()


def test_the_stage_marks_a_task_done_and_leaves_a_done_task_alone(settings, embedder) -> None:
    services = build_services(settings, embedder, FakeBackend(), ensure_default=True)
    try:
        with Session(services.engine, expire_on_commit=False) as session:
            dataset = get_dataset(session, "default")
            pool = services.pools.registry.get(dataset)
            candidates = [CandidateIn("Explain how a rainbow forms after a summer storm.", "submitted")]
            [outcome] = decide_and_store(session, services.pools.registry, pool, candidates)
            assert outcome.decision.accepted and outcome.row.instance_stage == "pending"
            finished = task(dataset.id, "Finished by another worker, instances still null.", "done", None)
            session.add(finished)
            session.commit()

            stage = InstanceStage(FakeBackend(), settings)
            assert not any(stage.run_task(session, finished.id, 2).model_dump().values())
            session.refresh(finished)
            assert finished.instances is None and finished.is_classification is None
            query = select(TaskInstance).where(col(TaskInstance.instruction_id) == finished.id)
            assert session.exec(query).all() == []

            counts = stage.run_task(session, outcome.row.id, 2)
            assert sum(counts.classification.values()) == 1 and counts.instance_decisions
            session.refresh(outcome.row)
            assert outcome.row.instance_stage == "done" and outcome.row.instances is not None
            assert pending_tasks(session, dataset.id) == []
    finally:
        services.stop()
