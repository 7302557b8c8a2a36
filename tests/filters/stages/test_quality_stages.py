"""The quality-rule stages in the chain: registered, on by default, switched off per dataset."""

from __future__ import annotations

from filters.chain import DecisionChain
from filters.heuristics import preset
from filters.novelty_pool import NoveltyPool
from filters.stages import RULE_IDS, STAGES
from filters.stages.base import DEFAULT_STAGE_ORDER, QUALITY_RULE_STAGES, ChainConfig


def test_quality_stages_are_registered_and_on_by_default() -> None:
    for stage_id in QUALITY_RULE_STAGES:
        assert stage_id in STAGES and stage_id in DEFAULT_STAGE_ORDER
        assert set(STAGES[stage_id].rule_ids) <= set(RULE_IDS)
    assert DEFAULT_STAGE_ORDER.index("statement") < DEFAULT_STAGE_ORDER.index("exact")


def test_the_default_chain_rejects_a_prompt_echo_with_its_rule_and_detail() -> None:
    chain = DecisionChain.from_config(ChainConfig())
    decision = chain.decide(NoveltyPool(0.7, None), "Provide the next 12 new tasks.")
    assert not decision.accepted
    assert decision.rule == "prompt_echo" and "new tasks" in (decision.detail or "")


def test_disabled_rules_switch_a_quality_rule_off() -> None:
    config = ChainConfig(heuristics=preset(), disabled_rules=frozenset({"statement"}))
    decision = DecisionChain.from_config(config).decide(NoveltyPool(0.7, None), "This is a joke about cats.")
    assert decision.accepted
