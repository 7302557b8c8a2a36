"""Every registered stage: a unique id, rule ids, and only Decision fields as what it records."""

from __future__ import annotations

import pytest

from filters.decision import SCORE_FIELDS
from filters.stages import STAGES
from filters.stages.base import DEFAULT_STAGE_ORDER, ChainConfig


def test_the_default_order_names_every_registered_stage_once():
    assert sorted(DEFAULT_STAGE_ORDER) == sorted(STAGES)


@pytest.mark.parametrize("stage_id", sorted(STAGES))
def test_a_stage_is_built_from_the_config_and_records_decision_fields(stage_id):
    stage_class = STAGES[stage_id]
    assert stage_class.id == stage_id
    assert stage_class.rule_ids
    assert set(stage_class.records) <= set(SCORE_FIELDS)
    assert isinstance(stage_class.from_config(ChainConfig()), stage_class)


def test_rule_ids_are_unique_across_stages():
    rule_ids = [rule for stage in STAGES.values() for rule in stage.rule_ids]
    assert len(rule_ids) == len(set(rule_ids))
