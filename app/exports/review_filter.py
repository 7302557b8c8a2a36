"""Which exported rows the reviews and the judge let through, and the texts reviewers edited.

A row (an accepted instance of an accepted task) is judged by its own review when it has one, else by its
task's (``effective`` state). With no ``states`` asked, a row a reviewer rejected (the instance or its
task) is left out and every other row stays; with ``states``, only rows whose effective state is one of
them. ``min_judge_score``: the task's confidence (``judge_expected``, else ``judge_score``) must be at
least it (an unjudged task is left out), and the instance's too when the instance was judged. An
``edited`` review's texts replace the original ones in the export (the stored rows keep the originals).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.core.errors import InvalidInput
from app.models import REVIEW_STATES, Instruction, Review, TaskInstance, stored_id
from app.review.reviews import current_reviews, state_of
from filters.stages.judge import judge_confidence


@dataclass(frozen=True)
class ReviewSelection:
    """What the reviews and the judge's scores let into an export."""

    states: tuple[str, ...] | None = None
    min_judge_score: float | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.states or ()) - set(REVIEW_STATES))
        if unknown:
            raise InvalidInput(
                f"unknown review state(s) {', '.join(unknown)}; states: {', '.join(REVIEW_STATES)}"
            )
        if self.min_judge_score is not None and not 1.0 <= self.min_judge_score <= 5.0:
            raise InvalidInput(f"min_judge_score {self.min_judge_score} is outside the judge's 1-5")


@dataclass(frozen=True)
class ReviewView:
    """The reviews in effect for a batch of rows: current ones, or those a snapshot recorded."""

    tasks: dict[int, Review]
    instances: dict[int, Review]

    @classmethod
    def current(
        cls, session: Session, dataset_id: int, task_ids: Iterable[int], instance_ids: Iterable[int]
    ) -> ReviewView:
        return cls(
            current_reviews(session, dataset_id, "instruction", task_ids),
            current_reviews(session, dataset_id, "instance", instance_ids),
        )

    @classmethod
    def recorded(cls, session: Session, review_ids: Sequence[int] | None) -> ReviewView:
        rows = list(session.exec(select(Review).where(col(Review.id).in_(review_ids)))) if review_ids else []
        return cls(
            {r.instruction_id: r for r in rows if r.instruction_id is not None},
            {r.instance_id: r for r in rows if r.instance_id is not None},
        )

    def keeps(self, selection: ReviewSelection, task: Instruction, instance: TaskInstance) -> bool:
        task_state = state_of(self.tasks.get(stored_id(task)))
        own_state = state_of(self.instances.get(stored_id(instance)))
        if selection.states is None:
            if "rejected" in (task_state, own_state):
                return False
        elif (own_state if own_state != "unreviewed" else task_state) not in selection.states:
            return False
        minimum = selection.min_judge_score
        if minimum is not None:
            task_score = judge_confidence(task.judge_expected, task.judge_score)
            own_score = judge_confidence(instance.judge_expected, instance.judge_score)
            if task_score is None or task_score < minimum:
                return False
            if own_score is not None and own_score < minimum:
                return False
        return True

    def texts(self, task: Instruction, instance: TaskInstance) -> tuple[str, str, str]:
        """``(instruction, input, output)`` with the edits of the reviews in effect."""
        instruction, input_text, output = task.instruction, instance.input, instance.output
        task_review = self.tasks.get(stored_id(task))
        if task_review is not None and task_review.state == "edited" and task_review.edited_text:
            instruction = task_review.edited_text
        own = self.instances.get(stored_id(instance))
        if own is not None and own.state == "edited":
            output = own.edited_text or output
            input_text = own.edited_input if own.edited_input is not None else input_text
        return instruction, input_text, output

    def edit_ids(self, task: Instruction, instance: TaskInstance) -> list[int]:
        """The ids of the edited reviews whose texts this row's export uses (a snapshot records them)."""
        reviews = (self.tasks.get(stored_id(task)), self.instances.get(stored_id(instance)))
        return [stored_id(r) for r in reviews if r is not None and r.state == "edited"]
