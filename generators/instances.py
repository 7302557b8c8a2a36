"""Prompts and parsers for the stages after a task is accepted: classification, then instances.

*Classification identification*: a few-shot prompt (``templates/classification_examples.txt``) asks
whether a task's output is one of a fixed set of labels; the answer is read from the first word
(``Yes``/``No``). *Instances*: classification tasks are prompted **output first** (``Class label: …``
then ``Input: …``, so every label gets examples and labels stay balanced), other tasks **input first**
(``Example N``, ``Input: …``, ``Output: …``). Base models get the few-shot text ending in an open item;
chat models get it as the user turn and an assistant turn already begun with that item.

The parsers never raise: what they drop is listed with a reason (``empty_completion``, ``truncated`` —
the last example of a completion cut by ``finish_reason == "length"`` —, ``no_output``, ``no_label``,
``beyond_limit``, ``unclear_answer``, ``extra_pair`` — a second ``Input:``/``Output:`` inside one
example, which small models write instead of a new ``Example N``; the first value is kept).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from generators.parsing import Dropped
from generators.prompts import Prompt, clean_instruction, template_text
from generators.tasks import Instance

_EXAMPLE_START = re.compile(r"(?:^|\n)[ \t]*Example[ \t]*\d*[ \t]*[.:)]?[ \t]*(?=\n|$|Input|Output)", re.I)
_OUTPUT = re.compile(r"(?:^|\n)[ \t]*Output[ \t]*\d*[ \t]*:", re.IGNORECASE)
_INPUT = re.compile(r"(?:^|\n)[ \t]*Input[ \t]*\d*[ \t]*:", re.IGNORECASE)
_LABEL = re.compile(r"(?:^|\n)[ \t]*Class[ \t]*label[ \t]*:", re.IGNORECASE)
_NEXT_FIELD = re.compile(r"\n[ \t]*(?:Input|Output)[ \t]*\d*[ \t]*:", re.IGNORECASE)
_TASK = re.compile(r"(?:^|\n)[ \t]*Task[ \t]*:", re.IGNORECASE)
NO_INPUT = frozenset({"", "<noinput>", "<no input>", "noinput", "none", "n/a", "no input", "-"})


@dataclass
class InstanceParse:
    instances: list[Instance] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)


def build_classification_prompt(instruction: str) -> Prompt:
    examples = template_text("classification_examples.txt")
    task = f"Task: {clean_instruction(instruction)}\n"
    request = template_text("classification_chat_request.txt").strip()
    return Prompt(
        text=f"{examples}{task}Classification:",
        messages=(
            {"role": "user", "content": f"{examples}{task}\n{request}"},
            {"role": "assistant", "content": "Classification:"},
        ),
        first_number=0,
        kind="classification",
    )


def parse_classification(text: str | None) -> tuple[bool | None, Dropped | None]:
    """``True``/``False`` from a Yes/No answer; ``None`` with the reason when the answer is neither."""
    words = re.findall(r"[A-Za-z]+", text or "")
    if words and words[0].lower() in ("yes", "no"):
        return words[0].lower() == "yes", None
    return None, Dropped((text or "")[:500], "unclear_answer")


def build_instance_prompt(instruction: str, is_classification: bool, k: int) -> Prompt:
    """The few-shot prompt for up to ``k`` instances of ``instruction``, output-first for classification."""
    name = "instances_output_first.txt" if is_classification else "instances_input_first.txt"
    opener = "Class label:" if is_classification else "Example 1\n"
    examples = template_text(name)
    task = f"Task: {clean_instruction(instruction)}\n"
    request = template_text("instances_chat_request.txt").strip().format(k=k)
    return Prompt(
        text=f"{examples}{task}{opener}",
        messages=(
            {"role": "user", "content": f"{examples}{task}\n{request}"},
            {"role": "assistant", "content": opener},
        ),
        first_number=1,
        kind="instances_output_first" if is_classification else "instances_input_first",
    )


def prompt_example_texts() -> frozenset[str]:
    """Every input, output and label written in the few-shot instance templates."""
    texts = set()
    for name in ("instances_input_first.txt", "instances_output_first.txt"):
        for line in template_text(name).splitlines():
            field_name, _, value = line.partition(":")
            if field_name.strip() in ("Input", "Output", "Class label") and value.strip():
                texts.add(value.strip())
    return frozenset(texts)


def instance_stop_sequences(k: int) -> tuple[str, ...]:
    """Stop at the next task or one example past ``k`` (what Self-Instruct's generation stopped at)."""
    return ("Task:", f"Example {k + 1}")


def parse_instances(
    text: str | None, finish_reason: str | None, is_classification: bool, k: int
) -> InstanceParse:
    """Completion text (continuing the prompt's open item) → up to ``k`` instances."""
    result = InstanceParse()
    if not isinstance(text, str) or not text.strip():
        result.dropped.append(Dropped(text or "", "empty_completion"))
        return result
    text = _TASK.split(text, maxsplit=1)[0]  # the model went on to invent a new task
    if is_classification:
        pieces = _LABEL.split(text)
        instances, dropped = _output_first(pieces)
    else:
        pieces = [p for p in _EXAMPLE_START.split(text)]
        instances, dropped = _input_first(pieces)
    result.dropped += dropped
    if finish_reason == "length" and instances:
        cut = instances.pop()
        result.dropped.append(Dropped(_describe(cut), "truncated"))
    for extra in instances[k:]:
        result.dropped.append(Dropped(_describe(extra), "beyond_limit"))
    result.instances = instances[:k]
    return result


def _input_first(pieces: list[str]) -> tuple[list[Instance], list[Dropped]]:
    instances, dropped = [], []
    for piece in pieces:
        if not piece.strip():
            continue
        parts = _OUTPUT.split("\n" + piece, maxsplit=1)
        if len(parts) < 2:
            dropped.append(Dropped(piece.strip()[:500], "no_output"))
            continue
        input_text = _INPUT.split(parts[0], maxsplit=1)[-1]
        output, extra = _up_to_next_field(parts[1])
        if extra:  # a second pair (or a second "Output:") without "Example N" is not guessed at
            dropped.append(Dropped(extra[:500], "extra_pair"))
        instances.append(Instance(_clean_input(input_text), output))
    return instances, dropped


def _output_first(pieces: list[str]) -> tuple[list[Instance], list[Dropped]]:
    instances, dropped = [], []
    for piece in pieces:
        if not piece.strip():
            continue
        label, _, rest = piece.strip().partition("\n")
        if not label.strip():
            dropped.append(Dropped(piece.strip()[:500], "no_label"))
            continue
        input_text, extra = _up_to_next_field(_INPUT.split("\n" + rest, maxsplit=1)[-1])
        if extra:
            dropped.append(Dropped(extra[:500], "extra_pair"))
        instances.append(Instance(_clean_input(input_text), label.strip()))
    return instances, dropped


def _up_to_next_field(text: str) -> tuple[str, str]:
    """The field's text up to the next ``Input:``/``Output:`` line, and what follows from there."""
    found = _NEXT_FIELD.search(text)
    if found is None:
        return text.strip(), ""
    return text[: found.start()].strip(), text[found.start() :].strip()


def _clean_input(text: str) -> str:
    text = text.strip()
    return "" if text.casefold() in NO_INPUT else text


def _describe(instance: Instance) -> str:
    return f"input: {instance.input}\noutput: {instance.output}"[:500]
