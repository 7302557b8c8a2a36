"""A candidate's *recipe*: the lineage keys that name how its prompt was built (not which rows it came
from), per strategy. The dashboard counts candidates per strategy and recipe (``GET …/stats``)."""

from __future__ import annotations

import json
from typing import Any

RECIPE_KEYS: dict[str, tuple[str, ...]] = {
    "self_instruct": ("example_choice",),
    "evol": ("operation", "direction"),
    "template": ("template",),
    "retrieval": ("source_dataset",),
}
MAX_VALUE_CHARS = 64  # template and dataset names are at most 64 characters
MAX_RECIPE_CHARS = 256


def prompt_recipe(strategy: str | None, lineage: dict[str, Any] | None) -> str | None:
    """The recipe as compact JSON with the strategy's keys in order (those the lineage has), or None."""
    keys = RECIPE_KEYS.get(strategy or "", ())
    if not lineage or not keys:
        return None
    picked = {k: str(lineage[k])[:MAX_VALUE_CHARS] for k in keys if lineage.get(k) is not None}
    return json.dumps(picked, separators=(",", ":"), ensure_ascii=False) if picked else None


def recipe_values(recipe: str | None) -> dict[str, str]:
    """The keys and values of a stored recipe ({} for None or a malformed one)."""
    if not recipe:
        return {}
    try:
        values = json.loads(recipe)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {}
