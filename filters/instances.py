"""Instance filters: one decision per generated (input, output) pair of a task, each rejection with a rule id.

Rules, in the order they are checked (the first failing rule decides):

1. per instance: ``empty_output``, ``placeholder_output`` (the whole output is "N/A", "<noinput>", "none"
   …), ``same_as_input`` (output equals the non-empty input, ignoring case and spacing), ``cut_off`` (input
   or output ends with ":", an unfinished generation), ``needs_unseen_content`` (the input is a link or a
   reference to an image/file/attachment, or the output says it needs or cannot see one),
   ``copied_from_prompt`` (an input or output of four or more words that is one of the prompt's own
   few-shot examples: small models copy them; short labels such as "Yes" are exempt).
2. per task, over the instances that passed step 1: ``conflicting_outputs`` — one input with different
   outputs makes every instance of the task suspect, so all of them are dropped (Self-Instruct's rule;
   empty inputs are exempt, tasks without input legitimately have many outputs);
   ``duplicate_instance`` — the same (input, output) pair again, the first one is kept.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

INSTANCE_RULE_IDS: tuple[str, ...] = (
    "empty_output",
    "placeholder_output",
    "same_as_input",
    "cut_off",
    "needs_unseen_content",
    "copied_from_prompt",
    "conflicting_outputs",
    "duplicate_instance",
)

PLACEHOLDERS = frozenset(
    {"n/a", "na", "<noinput>", "<no input>", "noinput", "no input", "none", "<none>", "null", "-"}
    | {"<nooutput>", "no output", "<no output>"}
)

_URL = re.compile(r"https?://|www\.\S+\.\w", re.IGNORECASE)
_MEDIA_FILE = re.compile(
    r"\b[\w-]+\.(?:png|jpe?g|gif|bmp|svg|webp|pdf|docx?|xlsx?|csv|pptx?|mp3|mp4|wav|zip)\b", re.IGNORECASE
)
_MEDIA_TAG = re.compile(
    r"<\s*(?:image|img|photo|picture|file|attachment|link|url|video|audio)\b[^>]*>"
    r"|\[\s*(?:image|photo|picture|file|attachment|link|video|audio)\s*\]",
    re.IGNORECASE,
)
_CANNOT_SEE = re.compile(
    r"\b(?:(?:can ?not|can't|cannot|unable to|not able to)\s+(?:see|view|access|open|display|browse|read)"
    r"|(?:see|refer to|look at|shown in|given in|in) the (?:attached|above|following|provided|given)\s+"
    r"(?:image|picture|photo|file|document|link|url|chart|graph|figure|diagram|video)"
    r"|as shown in the (?:image|picture|photo|figure|chart|graph|diagram|video))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class InstanceDecision:
    input: str
    output: str
    accepted: bool
    rule: str | None = None
    detail: str | None = None


def _normalize(text: str) -> str:
    return " ".join(text.split()).casefold()


def _needs_unseen_content(input_text: str, output: str) -> str | None:
    for name, text in (("input", input_text), ("output", output)):
        for pattern, what in (
            (_URL, "a link"),
            (_MEDIA_TAG, "a media placeholder"),
            (_MEDIA_FILE, "a file name"),
            (_CANNOT_SEE, "content the model cannot see"),
        ):
            found = pattern.search(text)
            if found:
                return f"{name} refers to {what}: {found.group(0)!r}"
    return None


def instance_rule(input_text: str, output: str) -> tuple[str, str] | None:
    """The first per-instance rule that rejects ``(input, output)``, as ``(rule id, detail)``."""
    stripped_output, stripped_input = output.strip(), input_text.strip()
    if not stripped_output:
        return ("empty_output", "the output is empty")
    if _normalize(stripped_output).strip(".") in PLACEHOLDERS:
        return ("placeholder_output", f"the output is the placeholder {stripped_output!r}")
    if stripped_input and _normalize(stripped_input) == _normalize(stripped_output):
        return ("same_as_input", "the output repeats the input")
    for name, text in (("input", stripped_input), ("output", stripped_output)):
        if text.endswith(":"):
            return ("cut_off", f"the {name} ends with ':'")
    unseen = _needs_unseen_content(stripped_input, stripped_output)
    if unseen:
        return ("needs_unseen_content", unseen)
    return None


COPY_MIN_WORDS = 4


def _copied(input_text: str, output: str, examples: frozenset[str]) -> tuple[str, str] | None:
    for name, text in (("input", input_text), ("output", output)):
        key = _normalize(text)
        if len(key.split()) >= COPY_MIN_WORDS and key in examples:
            return ("copied_from_prompt", f"the {name} is a few-shot example of the prompt")
    return None


def filter_instances(
    instances: Sequence[tuple[str, str]], prompt_examples: Collection[str] = ()
) -> list[InstanceDecision]:
    """Decide every ``(input, output)`` of one task, in order; see the module docstring for the rules.

    ``prompt_examples``: the texts of the few-shot examples the generating prompt showed.
    """
    examples = frozenset(_normalize(t) for t in prompt_examples)
    verdicts: list[tuple[str, str] | None] = [
        instance_rule(i, o) or _copied(i.strip(), o.strip(), examples) for i, o in instances
    ]
    outputs_by_input: dict[str, set[str]] = {}
    for (input_text, output), verdict in zip(instances, verdicts, strict=True):
        if verdict is None and input_text.strip():
            outputs_by_input.setdefault(_normalize(input_text), set()).add(_normalize(output))
    conflicting = sorted(key for key, outputs in outputs_by_input.items() if len(outputs) > 1)
    seen: set[tuple[str, str]] = set()
    decisions = []
    for (input_text, output), verdict in zip(instances, verdicts, strict=True):
        if verdict is None and conflicting:
            verdict = ("conflicting_outputs", f"input {conflicting[0][:80]!r} has different outputs")
        pair = (_normalize(input_text), _normalize(output))
        if verdict is None and pair in seen:
            verdict = ("duplicate_instance", "the same input and output appear earlier in the task")
        if verdict is None:
            seen.add(pair)
            decisions.append(InstanceDecision(input_text.strip(), output.strip(), True))
        else:
            decisions.append(InstanceDecision(input_text.strip(), output.strip(), False, *verdict))
    return decisions
