"""Template expansion, evolution failures, retrieval and magpie prompts, diverse example choice."""

from __future__ import annotations

import random

import numpy as np
import pytest

from generators.parsing import parse_single
from generators.strategies import (
    EvolStrategy,
    Example,
    MagpieStrategy,
    RetrievalStrategy,
    SelfInstructStrategy,
    StrategyContext,
    StrategyError,
    StrategyExhausted,
    TemplateSpec,
    TemplateStrategy,
)
from generators.strategies.evol import EvolSettings, evolution_failure
from generators.strategies.magpie import MagpieSettings, chat_prefix_for
from generators.strategies.retrieval import RetrievalSettings
from generators.strategies.self_instruct import SelfInstructSettings
from generators.strategies.template import TemplateSettings, check_template


class Items:
    def __init__(self, seeds: list[str], machine: list[str] = ()) -> None:
        self.seeds = [Example(i, t) for i, t in enumerate(seeds, start=1)]
        self.machine = [Example(100 + i, t) for i, t in enumerate(machine)]

    def seed_texts(self) -> list[str]:
        return [e.text for e in self.seeds]

    def machine_texts(self) -> list[str]:
        return [e.text for e in self.machine]

    def seed_items(self) -> list[Example]:
        return self.seeds

    def machine_items(self) -> list[Example]:
        return self.machine


TEMPLATE = TemplateSpec(
    1, "t", "Say {greeting} to {who}.", {"greeting": ["hi", "bye"], "who": ["Ann", "Bo", "Cy"]}
)


def test_expand_walks_the_cartesian_product_in_order_then_is_exhausted():
    strategy = TemplateStrategy.build(TemplateSettings(), StrategyContext(templates=[TEMPLATE]))
    texts = [strategy.next_prompt(Items([]), random.Random(0)).text for _ in range(6)]
    assert texts == [f"Say {g} to {w}." for g in ("hi", "bye") for w in ("Ann", "Bo", "Cy")]
    with pytest.raises(StrategyExhausted):
        strategy.next_prompt(Items([]), random.Random(0))


def test_a_resumed_expansion_continues_where_it_stopped():
    context = StrategyContext(templates=[TEMPLATE], extras={"requests_done": 4})
    prompt = TemplateStrategy.build(TemplateSettings(), context).next_prompt(Items([]), random.Random(0))
    assert prompt.text == "Say bye to Bo." and prompt.lineage["slots"] == {"greeting": "bye", "who": "Bo"}
    assert prompt.kind == "direct"


def test_sampled_templates_follow_the_random_stream():
    strategy = TemplateStrategy.build(TemplateSettings(mode="sample"), StrategyContext(templates=[TEMPLATE]))
    first = [strategy.next_prompt(Items([]), random.Random(3)).text for _ in range(3)]
    again = [strategy.next_prompt(Items([]), random.Random(3)).text for _ in range(3)]
    assert first == again


@pytest.mark.parametrize(
    ("text", "slots", "message"),
    [
        ("Say {a} {b}", {"a": ["x"]}, "unknown template slot 'b'"),
        ("Say {a}", {"a": []}, "empty value list"),
        ("Say {a}", {"a": ["x"], "z": ["y"]}, "unknown template slot 'z'"),
        ("Say {a}", {"a": [" "]}, "a value is empty"),
        ("请把{句子}翻译成英文", {"句子": ["你好"]}, None),
    ],
)
def test_template_checks_name_the_problem(text, slots, message):
    if message is None:
        check_template(text, slots)
        return
    with pytest.raises(StrategyError, match=message):
        check_template(text, slots)


@pytest.mark.parametrize(
    ("evolved", "reason"),
    [
        ("Describe the water cycle.", "evol_unchanged"),
        ("describe the WATER cycle", "evol_unchanged"),
        ("Rewritten instruction: describe rain", "evol_copied_prompt"),
        ("Describe it.", "evol_shorter"),
        ("Describe the water cycle and name each of its four stages in order.", None),
    ],
)
def test_failed_evolutions_say_why(evolved, reason):
    assert evolution_failure(evolved, "Describe the water cycle.", "add_constraints") == reason


def test_breadth_mutations_may_be_shorter():
    assert evolution_failure("Name a river.", "Describe the water cycle.", "mutate") is None


def test_evol_prompt_names_parent_and_operation_and_drops_a_failure():
    strategy = EvolStrategy.build(EvolSettings(operations=["deepen"]), StrategyContext())
    prompt = strategy.next_prompt(Items(["Describe the water cycle."]), random.Random(0))
    assert prompt.lineage == {
        "strategy": "evol",
        "operation": "deepen",
        "direction": "depth",
        "parent_id": 1,
        "parent": "Describe the water cycle.",
    }
    parsed = strategy.parse(prompt, " Describe the water cycle.", "stop")
    assert parsed.instructions == [] and [d.reason for d in parsed.dropped] == ["evol_unchanged"]


def test_unknown_evol_operation_is_named():
    with pytest.raises(ValueError, match="unknown operation 'shrink'"):
        EvolSettings(operations=["shrink"])


def test_retrieval_shows_examples_drawn_from_the_nearest():
    nearest = [Example(i, f"Task {i}.") for i in range(10)]
    calls: list[tuple[str, int]] = []

    def search(query: str, k: int) -> list[Example]:
        calls.append((query, k))
        return nearest[:k]

    context = StrategyContext(nearest=search, extras={"domain_description": "cooking"})
    strategy = RetrievalStrategy.build(RetrievalSettings(k=10, n_examples=4), context)
    prompt = strategy.next_prompt(Items([]), random.Random(0))
    assert calls == [("cooking", 10)]
    assert prompt.lineage["retrieved_ids"] == list(range(10)) and len(prompt.lineage["example_ids"]) == 4
    for example_id in prompt.lineage["example_ids"]:
        assert f"Task {example_id}." in prompt.text


def test_magpie_prompt_is_the_raw_chat_template_up_to_the_user_turn():
    prefix = chat_prefix_for("SmolLM2-135M-Instruct.Q4_1")
    assert prefix is not None and prefix.endswith("<|im_start|>user\n")
    prompt = MagpieStrategy.build(MagpieSettings(), StrategyContext(chat_prefix=prefix)).next_prompt(
        Items([]), random.Random(0)
    )
    assert prompt.raw and prompt.text == prefix and prompt.messages == ()
    assert chat_prefix_for("fake") is None
    with pytest.raises(StrategyError, match="chat template is known"):
        MagpieStrategy.build(MagpieSettings(), StrategyContext(chat_prefix=None))


def test_single_parse_keeps_the_first_paragraph():
    assert parse_single(" How do I bake bread?\n\nSure! Here is").instructions == ["How do I bake bread?"]
    assert [d.reason for d in parse_single("  ").dropped] == ["empty_completion"]


def test_diverse_choice_prefers_examples_far_from_each_other():
    # two tight clusters; uniform choice often takes several from one, farthest-point spreads them
    seeds = [f"a{i}" for i in range(10)] + [f"b{i}" for i in range(10)]

    def embed(texts: list[str]) -> np.ndarray:
        return np.array([[1.0, 0.0] if t.startswith("a") else [0.0, 1.0] for t in texts], dtype=np.float32)

    settings = SelfInstructSettings(example_choice="diverse", shortlist_factor=10)
    strategy = SelfInstructStrategy.build(
        settings, StrategyContext(embed=embed, extras={"n_human": 2, "n_machine": 0})
    )
    for seed in range(10):
        prompt = strategy.next_prompt(Items(seeds), random.Random(seed))
        shown = {seeds[i - 1][0] for i in prompt.lineage["example_ids"]}
        assert shown == {"a", "b"}
