"""The decision's fields reach the table and the API schemas from one declaration."""

from __future__ import annotations

from app.models import DecisionFields, DecisionPublic, Instruction, InstructionPublic
from filters.decision import DECISION_FIELDS


def test_the_stored_and_returned_fields_are_the_chains_decision_fields():
    assert tuple(DecisionFields.model_fields) == DECISION_FIELDS
    columns = set(Instruction.__table__.columns.keys())
    assert set(DECISION_FIELDS) <= columns
    for schema in (InstructionPublic, DecisionPublic):
        assert set(DECISION_FIELDS) <= set(schema.model_fields)
