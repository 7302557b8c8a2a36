"""The LLM judge's prompts and the reading of its answers (pure: no backend, no storage).

The judge rates a task (or a whole instruction–input–output example) from 1 to 5 on clarity,
completeness, feasibility and relevance, and gives an overall score (templates ``judge_instruction.txt``
and ``judge_instance.txt``). It is asked for JSON; :data:`JUDGE_SCHEMA` is sent as structured output
where the backend supports it, and :func:`parse_judgment` reads what came back either way: a JSON object
(also inside prose or code fences), else ``name: N`` pairs, ignoring scores outside 1–5. It never
raises; a text it cannot read gives a :class:`Judgment` with no overall score and the reason.

When the backend returned log-probabilities, :func:`expected_overall` is Deita's expected score: the
probabilities of the tokens ``1``…``5`` at the position where the overall score was sampled,
normalised, times their values — continuous where the sampled score is a step.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from generators.backends.base import Completion, TokenLogprobs
from generators.prompts import Prompt, template_text

CRITERIA: tuple[str, ...] = ("clarity", "completeness", "feasibility", "relevance", "overall")
SCORES = range(1, 6)
JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {c: {"type": "integer", "minimum": 1, "maximum": 5} for c in CRITERIA},
    "required": list(CRITERIA),
    "additionalProperties": False,
}
NO_DOMAIN = "any domain (no domain was given)"
ANSWER_PREFIX = '{"clarity":'  # the judge's answer, begun; read back with what the model continued
_PAIR = re.compile(
    r'"?\b(clarity|completeness|feasibility|relevance|overall)\b"?\s*[:=]\s*"?(-?\d+(?:\.\d+)?)', re.I
)
_SCORE_TOKEN = re.compile(r'[\s":]*([1-5])[\s",}]*')
_OVERALL = re.compile(r'overall"?\s*[:=]\s*"?\s*(\d)', re.I)


@dataclass(frozen=True)
class Judgment:
    """What the judge said about one candidate: its criteria scores, the overall one and how sure."""

    scores: dict[str, int] = field(default_factory=dict)
    expected: float | None = None  # the expected overall score over the score tokens' probabilities
    error: str | None = None  # why there is no overall score (unreadable answer, failed request)

    @property
    def overall(self) -> float | None:
        value = self.scores.get("overall")
        return float(value) if value is not None else None

    def verdict(self, raw: str | None = None) -> dict[str, Any]:
        """The judge's whole verdict as stored beside the candidate."""
        stored: dict[str, Any] = {"scores": self.scores, "expected": self.expected}
        if self.error is not None:
            stored["error"] = self.error
        if raw is not None:
            stored["raw"] = raw[:1000]
        return stored


def instruction_prompt(instruction: str, domain: str = "") -> Prompt:
    """The rubric prompt for one task; ``domain`` is the dataset's domain description."""
    body = template_text("judge_instruction.txt").format(
        instruction=instruction.strip(), domain=domain.strip() or NO_DOMAIN
    )
    return _prompt(body, "judge")


def instance_prompt(instruction: str, input_text: str, output: str) -> Prompt:
    """The rubric prompt for a whole example: does the output answer the instruction for that input?"""
    body = template_text("judge_instance.txt").format(
        instruction=instruction.strip(), input=input_text.strip() or "(none)", output=output.strip()
    )
    return _prompt(body, "judge_instance")


def _prompt(body: str, kind: str) -> Prompt:
    """The answer is begun (``ANSWER_PREFIX``), so a small model continues the JSON instead of
    restating the task; a backend with structured output drops the begun turn and answers afresh."""
    messages = ({"role": "user", "content": body}, {"role": "assistant", "content": ANSWER_PREFIX})
    return Prompt(text=f"{body}\n{ANSWER_PREFIX}", messages=messages, first_number=0, kind=kind)


def parse_judgment(text: str | None) -> Judgment:
    """The scores in a judge's answer; never raises (see the module docstring)."""
    if not text or not text.strip():
        return Judgment(error="empty answer")
    scores = _json_scores(text)
    if not scores:
        scores = {}
        for name, value in _PAIR.findall(text):
            scores.setdefault(name.lower(), value)
    kept = {name: int(float(v)) for name, v in scores.items() if _in_range(v)}
    if "overall" not in kept:
        reason = "overall score out of range" if "overall" in scores else "no overall score"
        return Judgment(kept, error=reason)
    return Judgment(kept)


def _json_scores(text: str) -> dict[str, Any]:
    start = text.find("{")
    while start != -1:
        end = text.find("}", start)
        if end == -1:
            return {}
        try:
            data = json.loads(text[start : end + 1])
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(data, dict):
            return {k.lower(): v for k, v in data.items() if isinstance(k, str) and k.lower() in CRITERIA}
        return {}
    return {}


def _in_range(value: object) -> bool:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return number.is_integer() and int(number) in SCORES


def judged(completion: Completion) -> Judgment:
    """A completion's judgment, with the expected overall score where it carries log-probabilities."""
    if not completion.text.strip():
        return Judgment(error="empty answer")
    judgment = parse_judgment(ANSWER_PREFIX + completion.text)  # a fresh JSON answer parses either way
    if judgment.overall is None or not completion.logprobs:
        return judgment
    return Judgment(judgment.scores, expected_overall(completion.logprobs), judgment.error)


def expected_overall(tokens: Sequence[TokenLogprobs]) -> float | None:
    """Σ s·p(s) over the scores 1–5 at the overall score's token (p renormalised over those five)."""
    text, starts = "", []
    for token in tokens:
        starts.append(len(text))
        text += token.token
    matches = list(_OVERALL.finditer(text))  # the last: an answer may restate the example first
    if not matches:
        return None
    match = matches[-1]
    position = match.start(1)
    index = max(i for i, start in enumerate(starts) if start <= position)
    weights: dict[int, float] = {}
    for candidate, logprob in tokens[index].top.items():
        digit = _SCORE_TOKEN.fullmatch(candidate)
        if digit is not None:
            score = int(digit.group(1))
            weights[score] = weights.get(score, 0.0) + math.exp(logprob)
    total = sum(weights.values())
    if total <= 0:
        return None
    return sum(score * weight for score, weight in weights.items()) / total
