"""Completion text → candidate instructions. Never raises; every dropped piece says why."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ITEM_START = re.compile(r"(?:^|\n)[ \t]*(?:Task[ \t]*)?(\d{1,3})[ \t]*[.):][ \t]*", re.IGNORECASE)
_PREFIX = re.compile(r"^(?:task|instruction)\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Dropped:
    text: str
    reason: str


@dataclass
class ParseResult:
    instructions: list[str] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)


def parse_completion(
    text: str | None, finish_reason: str | None = None, continues_item: bool = True
) -> ParseResult:
    """Split a numbered-list completion into instructions.

    ``continues_item``: the prompt ended with an open item number (``9.``), so the text before the first
    number is that item. An item cut by ``finish_reason == "length"`` is dropped as ``truncated``; a
    repeated item within one completion is dropped as ``repeated_in_completion``.
    """
    result = ParseResult()
    if not isinstance(text, str) or not text.strip():
        result.dropped.append(Dropped(text or "", "empty_completion"))
        return result
    pieces = _ITEM_START.split("\n" + text if not continues_item else text)
    # re.split with one group: [before, num, item, num, item, ...]
    items = [pieces[0]] if continues_item else []
    if not continues_item and pieces[0].strip():
        result.dropped.append(Dropped(pieces[0].strip(), "not_a_list_item"))
    items += pieces[2::2]
    if finish_reason == "length" and items:
        result.dropped.append(Dropped(items.pop().strip(), "truncated"))
    cleaned: list[str] = []
    for raw in items:
        item = _first_paragraph(raw)
        if not item:
            if raw.strip():
                result.dropped.append(Dropped(raw.strip(), "empty_item"))
            continue
        cleaned.append(item)
    seen: set[str] = set()
    for item in cleaned:
        key = item.casefold()
        if key in seen:
            result.dropped.append(Dropped(item, "repeated_in_completion"))
            continue
        seen.add(key)
        result.instructions.append(item)
    return result


def _first_paragraph(raw: str) -> str:
    """The item's text up to a blank line (what follows is the model wandering off), one line."""
    head = re.split(r"\n\s*\n", raw.strip(), maxsplit=1)[0]
    head = _PREFIX.sub("", re.sub(r"\s+", " ", head).strip())
    return head.strip().strip('"').strip()


def parse_single(text: str | None, finish_reason: str | None = None) -> ParseResult:
    """One instruction from a completion that is a single task (its first paragraph); never raises."""
    result = ParseResult()
    if not isinstance(text, str) or not text.strip():
        result.dropped.append(Dropped(text or "", "empty_completion"))
        return result
    item = _first_paragraph(re.sub(r"^\s*(?:\d{1,3}[.)]\s*)", "", text))
    if finish_reason == "length" and item == re.sub(r"\s+", " ", text).strip():
        result.dropped.append(Dropped(item, "truncated"))
    elif item:
        result.instructions.append(item)
    else:
        result.dropped.append(Dropped(text.strip(), "empty_item"))
    return result
