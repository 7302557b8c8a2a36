"""A deterministic backend for tests, demos and fault injection.

Without a script it writes numbered lists of plausible, varied task instructions chosen by a random
generator seeded from the prompt, the sample index and ``seed``, so runs repeat exactly. Classification
prompts get "Yes" for tasks that start with Classify/Identify/Evaluate and "No" otherwise; instance
prompts get examples in the prompt's format, about one in four with a fault the instance filters exist
for (N/A output, output equal to input, duplicate, conflicting label). With ``script`` it returns the
given completion texts in order (cycling), which lets tests feed exact text, truncation
(``finish_reason="length"``) or garbage. ``delay_s`` sleeps before answering and ``fail_every`` raises
on every k-th call. Judge prompts get ``judge_script``'s answers in order (cycling), else a JSON rating
(overall 4 for a task of four words or more ending in ``.`` or ``?``, else 2); asked for
log-probabilities, every completion gets them, the sampled token at 0.6 and, for a score 1-5, its
neighbours sharing the rest.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import replace

from generators.backends.base import (
    Completion,
    GenerationResult,
    LLMBackend,
    SamplingParams,
    TokenLogprobs,
)
from generators.prompts import Prompt

VERBS = (
    "Explain",
    "Describe",
    "Summarize",
    "List",
    "Compare",
    "Suggest",
    "Outline",
    "Give",
    "Classify",
    "Rewrite",
    "Translate",
    "Evaluate",
    "Plan",
    "Recommend",
    "Identify",
)
OBJECTS = (
    "three ways to",
    "the main steps to",
    "the pros and cons of ways to",
    "a short checklist to",
    "common mistakes people make when trying to",
    "a beginner's guide to",
    "the history behind efforts to",
    "a weekly routine to",
)
GOALS = (
    "save money on groceries",
    "learn a new language",
    "prepare for a job interview",
    "reduce stress at work",
    "train for a marathon",
    "grow tomatoes on a balcony",
    "write a persuasive essay",
    "negotiate a salary",
    "teach a child to read",
    "organize a small team",
    "improve sleep quality",
    "cook for a large family",
    "start a book club",
    "repair a bicycle tire",
    "speak confidently in public",
    "plan a budget trip",
    "study for a chemistry exam",
    "keep houseplants alive",
    "reduce household waste",
    "back up personal data",
)
AUDIENCES = (
    "for a college student",
    "for a retired teacher",
    "for a busy parent",
    "for a small business owner",
    "in plain language",
    "in under 100 words",
    "for a ten-year-old",
    "for a software engineer",
)


class FakeBackend(LLMBackend):
    model_id = "fake"

    def __init__(
        self,
        script: Sequence[str | tuple[str, str]] | None = None,
        seed: int = 0,
        items_per_completion: int = 6,
        delay_s: float = 0.0,
        fail_every: int = 0,
        vocabulary: int = 0,
        judge_script: Sequence[str] | None = None,
    ) -> None:
        self.script = list(script) if script else None
        self.judge_script = list(judge_script) if judge_script else None
        self.judge_calls = 0
        self.seed = seed
        self.items_per_completion = items_per_completion
        self.delay_s = delay_s
        self.fail_every = fail_every
        self.vocabulary = vocabulary  # > 0: each word list cut to its first N entries (a saturating source)
        self.calls = 0
        self._lock = threading.Lock()

    def generate(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        with self._lock:
            self.calls += 1
            call = self.calls
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.fail_every and call % self.fail_every == 0:
            raise RuntimeError(f"fake backend failure on call {call}")
        started = time.perf_counter()
        if prompt.kind.startswith("judge"):
            completions = [self._judgment(prompt) for _ in range(params.n)]
        else:
            completions = [self._completion(prompt, call, i, params) for i in range(params.n)]
        if params.logprobs:
            completions = [replace(c, logprobs=fake_logprobs(c.text)) for c in completions]
        return GenerationResult(
            prompt_text=prompt.text,
            completions=completions,
            prompt_tokens=len(prompt.text.split()),
            model_id=self.model_id,
            seconds=time.perf_counter() - started,
        )

    def _judgment(self, prompt: Prompt) -> Completion:
        if self.judge_script:
            with self._lock:
                text = self.judge_script[self.judge_calls % len(self.judge_script)]
                self.judge_calls += 1
            return Completion(text, "stop", len(text.split()))
        task = prompt.text.split("Task:", 1)[-1].split("\n", 1)[0].strip()
        score = 4 if len(task.split()) >= 4 and task.endswith((".", "?")) else 2
        text = json.dumps({"clarity": score, "completeness": score, "feasibility": 5, "overall": score})
        return Completion(text, "stop", len(text.split()))

    def _completion(self, prompt: Prompt, call: int, index: int, params: SamplingParams) -> Completion:
        if self.script:
            entry = self.script[((call - 1) * params.n + index) % len(self.script)]
            text, finish = (entry, "stop") if isinstance(entry, str) else entry
            return Completion(text, finish, len(text.split()))
        key = f"{self.seed}|{call}|{index}|{prompt.text}"
        if prompt.kind == "classification":
            task = prompt.text.rsplit("Task:", 1)[-1].strip()
            answer = " Yes" if task.startswith(("Classify", "Identify", "Evaluate")) else " No"
            return Completion(answer, "stop", 1)
        if prompt.kind.startswith("instances"):
            text = _fake_instances(_seeded(key), prompt.kind == "instances_output_first", _limit(params.stop))
            return Completion(text, "stop", len(text.split()))
        if prompt.kind in ("magpie", "evol", "template_phrase"):
            text = fake_single_task(_seeded(key), prompt, self.vocabulary)
            return Completion(text, "stop", len(text.split()))
        text = fake_task_list(key, prompt.first_number, self.items_per_completion, self.vocabulary)
        words = text.split()
        if len(words) > params.max_tokens:
            return Completion(" ".join(words[: params.max_tokens]), "length", params.max_tokens)
        return Completion(text, "stop", len(words))


def fake_logprobs(text: str) -> tuple[TokenLogprobs, ...]:
    """Tokens (digits alone, words, the rest) with made-up top alternatives (see the module docstring)."""
    tokens = []
    for token in re.findall(r"\d|\w+|\s+|[^\w\s]", text):
        top = {token: math.log(0.6)}
        if token in "12345" and len(token) == 1:
            near = [str(s) for s in (int(token) - 1, int(token) + 1) if 1 <= s <= 5]
            top |= {s: math.log(0.4 / len(near)) for s in near}
        tokens.append(TokenLogprobs(token, top))
    return tuple(tokens)


def _seeded(key: str) -> random.Random:
    """A generator whose stream depends on ``key`` alone (stable across processes and runs)."""
    digest = hashlib.sha256(key.encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def fake_task_list(key: str, first_number: int, items: int, vocabulary: int = 0) -> str:
    """A continuation of a numbered list (`` task\\n10. task…``) drawn from a generator seeded by ``key``."""
    rng = _seeded(key)
    lines = []
    for offset in range(items):
        task = _fake_task(rng, vocabulary)
        lines.append(task if offset == 0 else f"{first_number + offset}. {task}")
    return " " + "\n".join(lines)


def _fake_task(rng: random.Random, vocabulary: int = 0) -> str:
    cut = vocabulary or None
    words = [rng.choice(group[:cut]) for group in (VERBS, OBJECTS, GOALS, AUDIENCES)]
    return " ".join(words) + "."


CONSTRAINTS = ("Answer in exactly five bullet points", "Cite one example for each step", "Explain why")


def fake_single_task(rng: random.Random, prompt: Prompt, vocabulary: int = 0) -> str:
    """One task: a user turn (``magpie``), a rewrite of the prompt's instruction with one more constraint
    (``evol``), or the prompt's filled template as a request (``template_phrase``)."""
    if prompt.kind == "evol":
        parent = prompt.text.rsplit("Instruction:", 1)[-1].split("\n", 1)[0].strip().rstrip(".")
        return f" {parent}, and {rng.choice(CONSTRAINTS).lower()} ({rng.randrange(100)})."
    if prompt.kind == "template_phrase":
        task = prompt.text.rsplit("Task:", 1)[-1].split("\n", 1)[0].strip()
        return f" Could you please {task[:1].lower()}{task[1:]}"
    return " " + _fake_task(rng, vocabulary)


def _limit(stop: tuple[str, ...]) -> int:
    """The instance count asked for, read from the ``Example K+1`` stop sequence (default 3)."""
    for item in stop:
        if item.startswith("Example ") and item[8:].isdigit():
            return int(item[8:]) - 1
    return 3


def _fake_instances(rng: random.Random, output_first: bool, k: int) -> str:
    """``k`` examples continuing the prompt's open item; about one in four carries a fault."""
    lines: list[str] = []
    pairs: list[tuple[str, str]] = []
    for number in range(1, k + 1):
        goal, audience = rng.choice(GOALS), rng.choice(AUDIENCES)
        fault = rng.random()
        if output_first:
            label = ("Yes", "No")[(number - 1) % 2]
            pair = (f"A plan to {goal} {audience}, case {rng.randrange(1000)}.", label)
            if fault < 0.1 and pairs:
                pair = (pairs[0][0], "No" if pairs[0][1] == "Yes" else "Yes")  # a conflicting label
            lines.append(f"{'' if number == 1 else 'Class label:'} {pair[1]}\nInput: {pair[0]}")
        else:
            step = rng.choice(VERBS).lower()
            pair = (f"I want to {goal} {audience}.", f"Start small: {step} one step today.")
            if fault < 0.1:
                pair = (pair[0], "N/A")
            elif fault < 0.18 and pairs:
                pair = pairs[-1]
            elif fault < 0.25:
                pair = (pair[0], pair[0])
            header = "" if number == 1 else f"Example {number}\n"
            lines.append(f"{header}Input: {pair[0]}\nOutput: {pair[1]}")
        pairs.append(pair)
    return "\n".join(lines)
