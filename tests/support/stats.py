"""Comparing ``GET …/stats`` answers."""

from __future__ import annotations

from typing import Any


def rounded(stats: dict[str, Any]) -> dict[str, Any]:
    """The stats with every histogram mean rounded (sums added in another order differ in the last bit)."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: round(v, 9) if k == "mean" and v is not None else walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(stats)
