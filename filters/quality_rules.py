"""Rule checks on a candidate instruction's text: is it a task a person could be asked to do?

Each check returns ``(rule_id, detail)`` when the text fails it, else None. They catch what a small model
writes when it continues the generation prompt instead of proposing a task:

- ``prompt_echo``: the text restates the request ("Provide the next 12 new tasks.", "task 9", "the list
  of tasks", "numbered 9 to 16").
- ``statement``: no imperative, question or request form ("This is a joke.", a bare paragraph). English
  only: a text whose letters are mostly outside the Latin script (Chinese, Japanese, Russian …) is never
  rejected by this rule, since its grammar is not checked.
- cut-off: ``ends_with_colon`` (a colon that introduces nothing a request asked for), ``unclosed_quote``
  (an open quotation mark or bracket), ``dangling_word`` (ends on a conjunction or an article).
- leftover template: ``placeholder`` (``{name}``, ``<noinput>``, ``[insert …]``), ``markup`` (chat-template
  tokens, code fences, "Instruction:" / "Output:" labels).
"""

from __future__ import annotations

import re
import unicodedata

Failure = tuple[str, str] | None
NONE_DISABLED: frozenset[str] = frozenset()


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ECHO_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), label)
    for pattern, label in (
        (r"\b(new|more|next|additional|further|following|remaining|other)\s+(\d+\s+)?tasks?\b", "new tasks"),
        (r"\b\d+\s+(new\s+|more\s+|additional\s+)?tasks\b", "a count of tasks"),
        (r"\btasks?\s*(#|no\.?\s*|number\s*)?\d+\b", "a task number"),
        (r"\b(list|set|series)\s+of\s+(the\s+)?tasks\b", "the list of tasks"),
        (r"\bnumbered\s+(from\s+)?\d+", "numbering"),
        (r"\bcome\s+up\s+with\s+a\s+series\s+of\s+tasks\b", "the generation request"),
        (r"^\s*\d{1,3}\s*[.)]\s+(?=[A-Za-z])", "a list number"),  # "2. Explain …": the list's own numbering
        (r"[,;]\s*(and\s+)?\d{1,3}\.\s+[A-Z]", "list items run together"),  # "…, and 10. Define …"
    )
)


def prompt_echo(text: str, disabled: frozenset[str] = NONE_DISABLED) -> Failure:
    if "prompt_echo" in disabled:
        return None
    letters, digits = sum(map(str.isalpha, text)), sum(map(str.isdigit, text))
    if digits > letters:  # "[1] 11. [2] 12. [3] 13."
        return ("prompt_echo", f"numbering only ({digits} digits, {letters} letters)")
    for pattern, label in _ECHO_PATTERNS:
        match = pattern.search(text)
        if match:
            return ("prompt_echo", f"restates the request ({label}: {match.group(0)!r})")
    return None


# verbs that open an English request in the base form ("Write …", "Sort …"), and other request openers
IMPERATIVE_VERBS = _words(
    """
    act add address adjust advise analyse analyze answer apply arrange ask assess assign attach avoid
    brainstorm break build calculate categorise categorize change check choose cite clarify classify clean
    combine come compare compile complete compose compute condense consider construct continue convert
    correct count craft create critique curate debug decide decode define delete derive describe design
    detect determine develop devise diagnose discover discuss distinguish divide do draft draw edit elaborate
    eliminate encode enter estimate evaluate examine expand explain explore express extract fill find fix
    flag form format formulate generate get give group guess help highlight identify illustrate imagine
    implement improve include indicate infer input insert interpret introduce invent investigate judge
    justify keep label learn let link list locate look make map match measure mention merge modify name
    narrate note notify offer order organise organize outline output paraphrase parse pick plan point predict
    prepare present pretend prioritise prioritize produce proofread propose prove provide put rank rate react
    read reason recall recommend reconstruct redact reduce refactor reformat reformulate rephrase
    replace reply report represent request research resolve respond restate restructure retrieve
    return reverse review round
    revise rewrite role-play say schedule score search select separate share shorten show simplify
    simulate sketch solve sort specify spell split state structure suggest summarise summarize supply
    suppose swap take talk teach tell test think tidy trace transform translate try turn tweak type underline
    update use verify view visualize walk word work write
    """
)
_REQUEST_OPENERS = _words(
    """
    please kindly given based using assuming imagine suppose if when let's pretend without considering
    starting describing converting choosing solving following according
    """
)
_WH_WORDS = _words("what which who whom whose why how where")
_REQUEST_PHRASES = re.compile(
    r"\byou\s+(are|will|should|must|need|have\s+to|may|want|were|could|wrote)\b|\byou\s+can(?!['’]t)\b|\b(can|could|would|will)\s+you\b"
    r"|\byour\s+(task|job|goal|answer|output|response|own)\b|\b(me|my|yourself)\b"
    r"|\b(please|i'd like|i would like|i would appreciate|i want|i need|we need|help|let's|let us)\b"
    r"|\bhere (is|are)\b"
    r"|\b(should|must|needs? to|has to|have to) be\b",
    re.IGNORECASE,
)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!;])\s+|\n+")
_CLAUSE_SPLIT = re.compile(r"[,:;(\-–—]\s*")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def mostly_latin(text: str) -> bool:
    """True when at least 80% of the letters are Latin: the statement rule checks English grammar."""
    if text.isascii():  # every ASCII letter is a Latin one
        return any(map(str.isalpha, text))
    letters = list(filter(str.isalpha, text))
    if not letters:
        return False
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    return latin >= 0.8 * len(letters)


def _opens_request(fragment: str) -> bool:
    words = _WORD.findall(fragment)
    if not words:
        return False
    while (
        len(words) > 1 and words[0].lower().endswith("ly") and words[0].lower() not in IMPERATIVE_VERBS
    ):  # "Briefly describe …"
        words = words[1:]
    first = words[0].lower()
    return first in IMPERATIVE_VERBS or first in _REQUEST_OPENERS


def is_request(text: str) -> bool:
    """Imperative, question or request form somewhere in the text (English)."""
    if "?" in text or _REQUEST_PHRASES.search(text):
        return True
    for sentence in _SENTENCE_SPLIT.split(text):
        words = _WORD.findall(sentence)
        if words and words[0].lower() in _WH_WORDS:  # "How many days are between the two dates."
            return True
        if any(_opens_request(clause) for clause in _CLAUSE_SPLIT.split(sentence)):
            return True
    return False


def statement(text: str, disabled: frozenset[str] = NONE_DISABLED) -> Failure:
    if "statement" in disabled or not mostly_latin(text) or is_request(text):
        return None
    sentences = [s for s in _SENTENCE_SPLIT.split(text.strip()) if s]
    shape = "a bare passage" if len(sentences) > 2 else "a statement"
    return ("statement", f"{shape}: no imperative, question or request")


_OPENING_PAIRS: tuple[tuple[str, str], ...] = tuple(zip("([{“‘«「（【《『", ")]}”’»」）】》』", strict=True))
# a sentence may end on a preposition ("… written in"), never on a conjunction or an article
DANGLING_WORDS = _words(
    """
    and or but nor because although though whereas unless that which whose the a an than including e.g. i.e.
    """
)
_REFERS_TO_INPUT = re.compile(
    r"\b(following|follows|below|given|this|these|input|provided|here|examples?|steps|answer)\b",
    re.IGNORECASE,
)


def _last_sentence(text: str) -> str:
    parts = [p for p in _SENTENCE_SPLIT.split(text) if p.strip()]
    return parts[-1] if parts else text


def cut_off(text: str, disabled: frozenset[str] = NONE_DISABLED) -> Failure:
    stripped = text.rstrip()
    if not stripped:
        return None
    if stripped[-1] in ":：" and "ends_with_colon" not in disabled:
        last = _last_sentence(stripped)
        if mostly_latin(last) and not _REFERS_TO_INPUT.search(last):
            return ("ends_with_colon", "ends in ':' introducing nothing the task refers to")
    failure = None if "unclosed_quote" in disabled else _unclosed(stripped)
    if failure is not None:
        return failure
    if "dangling_word" in disabled:
        return None
    words = _WORD.findall(stripped[-40:])
    if words and stripped[-1].isalpha() and words[-1].lower() in DANGLING_WORDS:
        return ("dangling_word", f"ends on {words[-1]!r}")
    if stripped[-1] in ",-–—":
        return ("dangling_word", f"ends on {stripped[-1]!r}")
    return None


def _unclosed(stripped: str) -> Failure:
    if stripped.count('"') % 2 == 1:
        return ("unclosed_quote", "an odd number of '\"' (an open quotation)")
    for opening, closing in _OPENING_PAIRS:
        if stripped.count(opening) > stripped.count(closing):
            return ("unclosed_quote", f"an open {opening!r} never closed")
    return None


_PLACEHOLDERS = re.compile(
    r"\{\{?\s*[A-Za-z_][\w ]{0,30}\}\}?|<\s*(noinput|no input|input|output|insert[^>]*|your[^>]*|"
    r"name|placeholder|text|blank)\s*>|\[\s*(insert|your|placeholder|name of|enter|add)[^\]]*\]|"
    r"\bX{3,}\b|\bPLACEHOLDER\b",
    re.IGNORECASE,
)
_MARKUP = re.compile(
    r"<\|[^|>]*\|>|</?(s|im_start|im_end|endoftext|eos|bos|assistant|user|system)>|```|^\s*#{2,}|"
    r"(^|\n)\s*(instruction|input|output|task)\s*\d*\s*:",
    re.IGNORECASE,
)


def leftover_template(text: str, disabled: frozenset[str] = NONE_DISABLED) -> Failure:
    match = None if "placeholder" in disabled else _PLACEHOLDERS.search(text)
    if match:
        return ("placeholder", f"holds the template placeholder {match.group(0)!r}")
    match = None if "markup" in disabled else _MARKUP.search(text)
    if match:
        return ("markup", f"holds leftover markup {match.group(0).strip()!r}")
    return None
