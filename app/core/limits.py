"""What input the service accepts before anything reaches the database or a model.

**The text rule** (the same on SQLite and PostgreSQL): text is stored as given, except that a text holding
a NUL, another C0 control character other than tab, line feed and carriage return, DEL (U+007F) or a
lone UTF-16 surrogate (U+D800–U+DFFF, e.g. JSON ``"\\ud800"``) is refused with 422 naming the field.
PostgreSQL cannot store NUL, and a tokenizer cannot encode a lone surrogate; refusing them everywhere
keeps a SQLite dataset movable to PostgreSQL.

**Model output** follows the same rule, normalised instead of refused (a model's text is not the
client's to fix): a lone surrogate becomes U+FFFD, every other refused character is dropped, before the
completion is parsed, decided or stored. The ledger row of a completion that was changed says how many
characters were in ``params["text_cleaned"]``.

**Integers**: every id and cursor is a positive 32-bit integer (``1 … 2,147,483,647``, the range of the
id columns on PostgreSQL); anything else is refused before a query is built.

**JSON**: a request body nests at most ``SI_MAX_JSON_DEPTH`` arrays/objects deep and no string in it
is longer than ``SI_MAX_TEXT_CHARS``; the body itself is at most ``SI_MAX_BODY_BYTES``
(``SI_MAX_IMPORT_BYTES`` for file imports).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generators.backends.base import Completion, GenerationResult

INT4_MAX = 2_147_483_647  # PostgreSQL INTEGER, the type of every id column
MAX_K = 100  # most results one /similar query (or `selfinstruct search`) returns
FORBIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def forbidden_character(text: str) -> str | None:
    """A description of the first character the text rule refuses, or ``None``."""
    found = FORBIDDEN_CHARACTERS.search(text)
    if found is None:
        return None
    code = ord(found.group())
    kind = "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "a control character"
    return f"contains {kind} (U+{code:04X}) at position {found.start()}; see the text rule in the README"


CLEANED_NOTE = "text_cleaned"  # result.extra: characters changed per completion; a ledger row's params


def clean_model_text(text: str) -> tuple[str, int]:
    """Model output under the text rule: lone surrogates → U+FFFD, other refused characters dropped;
    the text and how many characters were changed."""
    changed = 0

    def fix(found: re.Match[str]) -> str:
        nonlocal changed
        changed += 1
        return "\ufffd" if 0xD800 <= ord(found.group()) <= 0xDFFF else ""

    cleaned = FORBIDDEN_CHARACTERS.sub(fix, text)
    return cleaned, changed


def clean_model_output(result: GenerationResult) -> GenerationResult:
    """``result`` with every completion under :func:`clean_model_text` (itself when none changed)."""
    cleaned = [clean_model_text(c.text) for c in result.completions]
    if not any(changed for _, changed in cleaned):
        return result
    completions: list[Completion] = [
        replace(c, text=text) for c, (text, _) in zip(result.completions, cleaned, strict=True)
    ]
    extra = {**result.extra, CLEANED_NOTE: [changed for _, changed in cleaned]}
    return replace(result, completions=completions, extra=extra)


def json_problem(value: object, max_depth: int, max_chars: int) -> tuple[str, str] | None:
    """``(path, problem)`` of the first part of a parsed JSON document the limits refuse, or ``None``.

    Walks iteratively, so a document that is deep but parsed cannot exhaust the stack here.
    """
    stack: list[tuple[object, str, int]] = [(value, "body", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= max_depth:
                return path, f"nests deeper than {max_depth} levels"
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str):
                    problem = forbidden_character(key)
                    if problem:
                        return f"{path}.{key!a}", f"key {problem}"
                stack.append((child, f"{path}.{key}", depth + 1))
        elif isinstance(item, str):
            if len(item) > max_chars:
                return path, f"is longer than {max_chars} characters ({len(item)})"
            problem = forbidden_character(item)
            if problem:
                return path, problem
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > 2**63 - 1:
            return path, "is outside the 64-bit integer range"
    return None
