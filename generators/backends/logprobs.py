"""Log-probabilities in OpenAI-compatible answers, read into :class:`TokenLogprobs` (never raises)."""

from __future__ import annotations

from typing import Any

from generators.backends.base import TokenLogprobs


def logprob_fields(endpoint: str, top: int) -> dict[str, Any]:
    """The request fields asking for each token's ``top`` alternatives (none when ``top`` is 0)."""
    if top <= 0:
        return {}
    return {"logprobs": True, "top_logprobs": top} if endpoint == "chat" else {"logprobs": top}


def choice_logprobs(choice: Any) -> tuple[TokenLogprobs, ...] | None:
    """A chat choice's ``logprobs.content`` or a completion choice's ``logprobs.tokens``, if any."""
    logprobs = getattr(choice, "logprobs", None)
    if logprobs is None:
        return None
    try:
        content = getattr(logprobs, "content", None)
        if content is not None:  # chat: one entry per token, each with its top alternatives
            return tuple(
                TokenLogprobs(t.token, {a.token: float(a.logprob) for a in (t.top_logprobs or [])})
                for t in content
            )
        tokens, tops = logprobs.tokens or [], logprobs.top_logprobs or []
        return tuple(
            TokenLogprobs(token, {k: float(v) for k, v in (top or {}).items()})
            for token, top in zip(tokens, tops, strict=False)
        )
    except (AttributeError, TypeError, ValueError):
        return None
