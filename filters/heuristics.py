"""Self-Instruct's instruction heuristics, each a rule with an id that can be switched off.

The ``self_instruct`` preset reproduces ``post_process_gpt3_response`` of the Self-Instruct paper's
``bootstrap_instructions.py``: fewer than 4 or more than 150 whitespace words, a 13-word blocklist matched
as whole words ignoring case, "Write a program" at the start (checked on the capitalised text, as there),
a leading punctuation character and a leading non-ASCII character. ``alpaca`` adds Alpaca's 5 extra
blocklist words. ``multilingual`` keeps the same checks but counts CJK characters as words and allows a
non-ASCII first character, so Chinese or Japanese datasets are not rejected wholesale.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from filters.unicode_text import count_words_multilingual

SELF_INSTRUCT_BLOCKLIST: tuple[str, ...] = (
    "image",
    "images",
    "graph",
    "graphs",
    "picture",
    "pictures",
    "file",
    "files",
    "map",
    "maps",
    "draw",
    "plot",
    "go to",
)
ALPACA_EXTRA_BLOCKLIST: tuple[str, ...] = ("video", "audio", "music", "flowchart", "diagram")

MIN_WORDS_EXCLUSIVE = 3
MAX_WORDS = 150

RULE_IDS: tuple[str, ...] = (
    "too_short",
    "too_long",
    "blocklist",
    "write_a_program",
    "starts_with_punctuation",
    "non_ascii_start",
)


@dataclass(frozen=True)
class HeuristicConfig:
    """Which rules run and with what word list; build one with :func:`preset`."""

    blocklist: tuple[str, ...] = SELF_INSTRUCT_BLOCKLIST
    disabled: frozenset[str] = field(default_factory=frozenset)
    count_words: Callable[[str], int] = staticmethod(lambda text: len(text.split()))

    def enabled(self, rule_id: str) -> bool:
        return rule_id not in self.disabled


PRESETS = ("self_instruct", "alpaca", "multilingual")


def preset(name: str = "self_instruct", disabled: Iterable[str] = ()) -> HeuristicConfig:
    """Return the named preset with the given rule ids switched off."""
    disabled = frozenset(disabled)
    unknown = disabled - set(RULE_IDS)
    if unknown:
        raise ValueError(f"unknown heuristic rule(s): {', '.join(sorted(unknown))}")
    if name == "self_instruct":
        return HeuristicConfig(disabled=disabled)
    if name == "alpaca":
        return HeuristicConfig(blocklist=SELF_INSTRUCT_BLOCKLIST + ALPACA_EXTRA_BLOCKLIST, disabled=disabled)
    if name == "multilingual":
        return HeuristicConfig(disabled=disabled | {"non_ascii_start"}, count_words=count_words_multilingual)
    raise ValueError(f"unknown heuristics preset {name!r}; choose one of {', '.join(PRESETS)}")


def _blocklist_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


_PATTERNS: dict[tuple[str, ...], re.Pattern[str]] = {}


def first_failing_rule(instruction: str, config: HeuristicConfig) -> tuple[str, str] | None:
    """Return ``(rule_id, detail)`` of the first rule the instruction fails, or None."""
    text = re.sub(r"\s+", " ", instruction).strip()
    if not text:
        return ("too_short", "empty instruction")
    words = config.count_words(text)
    if config.enabled("too_short") and words <= MIN_WORDS_EXCLUSIVE:
        return ("too_short", f"{words} words (needs more than {MIN_WORDS_EXCLUSIVE})")
    if config.enabled("too_long") and words > MAX_WORDS:
        return ("too_long", f"{words} words (at most {MAX_WORDS})")
    if config.enabled("blocklist"):
        pattern = _PATTERNS.get(config.blocklist)
        if pattern is None:
            pattern = _PATTERNS.setdefault(config.blocklist, _blocklist_pattern(config.blocklist))
        match = pattern.search(text)
        if match:
            return ("blocklist", f"contains {match.group(0).lower()!r}")
    if config.enabled("write_a_program") and text.capitalize().startswith("Write a program"):
        return ("write_a_program", "starts with 'Write a program'")
    if config.enabled("starts_with_punctuation") and text[0] in string.punctuation:
        return ("starts_with_punctuation", f"starts with {text[0]!r}")
    if config.enabled("non_ascii_start") and not text[0].isascii():
        return ("non_ascii_start", f"starts with non-ASCII {text[0]!r}")
    return None
