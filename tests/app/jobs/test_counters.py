"""Job counters: counting, merging, storage and the CLI's lines, from one module."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlmodel import Session

from app.core.db import create_tables, make_engine
from app.jobs.counters import (
    GROUPS,
    JobCounts,
    accepted_and_rejections,
    as_job_counts,
    job_count_lines,
    rejection_line,
    stage_lines,
)
from app.models import Dataset, Job, JobPublic


def sample() -> JobCounts:
    counts = JobCounts()
    for rule in [None] * 7 + ["rouge_l"] * 3 + ["exact"] * 3:
        counts.add_decision(rule)
    counts.add("parse_dropped", "target_reached", 2)
    counts.add_all("parse_dropped", ["too_long"])
    for answer in [True, True, False, False, False, None]:
        counts.add_classification(answer)
    for rule in [None] * 5 + ["copied_from_prompt"] * 4 + ["same_as_input"]:
        counts.add_instance_decision(rule)
    counts.add("instance_parse_dropped", "extra_pair", 2)
    return counts


def test_counting_fills_the_groups():
    counts = sample()
    assert counts.model_dump() == {
        "decisions": {"accepted": 7, "rouge_l": 3, "exact": 3},
        "parse_dropped": {"target_reached": 2, "too_long": 1},
        "classification": {"yes": 2, "no": 3, "unclear": 1},
        "instance_decisions": {"accepted": 5, "copied_from_prompt": 4, "same_as_input": 1},
        "instance_parse_dropped": {"extra_pair": 2},
        "requests": {},
    }
    assert list(counts.model_dump()) == list(GROUPS)
    assert counts.has_stage_counts() and not JobCounts().has_stage_counts()


def test_merged_sums_and_leaves_both_operands_alone():
    a, b = JobCounts(), JobCounts()
    a.add_decision(None)
    a.add("parse_dropped", "truncated")
    b.add_decision(None)
    b.add_decision("exact")
    b.add_classification(True)
    merged = a.merged(b)
    assert merged.decisions == {"accepted": 2, "exact": 1}
    assert merged.parse_dropped == {"truncated": 1} and merged.classification == {"yes": 1}
    assert a.decisions == {"accepted": 1} and b.decisions == {"accepted": 1, "exact": 1}
    assert merged.merged(JobCounts()) == merged and JobCounts().merged(merged) == merged


def test_as_job_counts_accepts_its_json_form_and_nothing():
    counts = sample()
    assert as_job_counts(counts) is counts
    assert as_job_counts(counts.model_dump()) == counts
    assert as_job_counts(None) == as_job_counts({}) == JobCounts()
    with pytest.raises(ValidationError):  # the flat keys of 0.2 are converted by migration 0004, not here
        as_job_counts({"accepted": 3, "parse:truncated": 1})


def test_accepted_and_rejections_orders_rules_by_count():
    assert accepted_and_rejections({"a": 1, "accepted": 4, "b": 3}) == (4, {"b": 3, "a": 1})
    assert accepted_and_rejections({}) == (0, {})


# what the prefix-decoding CLI of 0.2 printed for the same counts (flat keys), captured before the change
PREVIOUS_RELEASE_LINES = [
    "rejections: rouge_l 3, exact 3, parse:target_reached 2, parse:too_long 1",
    "instances: 5 accepted of 10 parsed (50% yield)",
    "classification: no 3, yes 2, unclear 1",
    "instance: copied_from_prompt 4, same_as_input 1",
    "instance_parse: extra_pair 2",
]


def test_the_cli_lines_are_those_of_the_flat_counters():
    counts = sample()
    assert job_count_lines(counts) == PREVIOUS_RELEASE_LINES
    assert job_count_lines(counts.model_dump()) == PREVIOUS_RELEASE_LINES  # the JSON a server sends
    assert rejection_line(JobCounts()) is None and job_count_lines(JobCounts()) == []
    only_tasks = JobCounts(decisions={"accepted": 2, "exact": 1})
    assert job_count_lines(only_tasks) == ["rejections: exact 1"]  # no stage lines for a job without it
    assert stage_lines(JobCounts()) == ["instances: 0 accepted of 0 parsed (0% yield)"]


def test_a_job_stores_its_counts_as_json_groups_and_reads_them_typed(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/counts.db")
    create_tables(engine)
    with Session(engine, expire_on_commit=False) as session:
        session.add(Dataset(name="d"))
        session.flush()
        job = Job(dataset_id=1, target=1, max_requests=1)
        session.add(job)
        session.commit()
        assert job.counts == JobCounts()
        job.counts = job.counts.merged(sample())
        session.add(job)
        session.commit()
        raw = session.exec(text("SELECT counts FROM job")).scalar_one()
    assert '"decisions": {"accepted": 7' in raw and '"instance_parse_dropped": {"extra_pair": 2}' in raw
    with Session(engine) as session:
        stored = session.get(Job, job.id)
        assert isinstance(stored.counts, JobCounts) and stored.counts == sample()
        public = JobPublic.model_validate(stored, update={"dataset": "d"})
        assert public.model_dump()["counts"] == sample().model_dump()
    engine.dispose()


def test_the_openapi_schema_shows_the_groups():
    schema = JobPublic.model_json_schema()
    groups = schema["$defs"]["JobCounts"]["properties"]
    assert list(groups) == list(GROUPS)
    assert all(g["additionalProperties"] == {"type": "integer"} for g in groups.values())
