"""Domain relevance: reject a candidate whose relevance to the dataset's domain is below the threshold.

Relevance is ``max(cosine to the domain description, max cosine to a seed)`` (normalised vectors): the
description alone is one short sentence, the seeds are the dataset's own in-domain examples. The
reference (the description's vector, then the seeds') is built with the pool; the stage applies only to
a dataset with a non-empty ``domain``. It needs the vector but no pool item, so it is decided in
:meth:`filters.chain.DecisionChain.prepare`, outside the dataset's lock. A relevance computed earlier
(a stored one, on replay) is used as it is.
"""

from __future__ import annotations

import numpy as np

from filters.novelty_pool import NoveltyPool
from filters.stages.base import ChainConfig, DecisionStage, StageInput, Verdict


class RelevanceStage(DecisionStage):
    id = "relevance"
    rule_ids = ("relevance",)
    records = ("relevance",)
    uses_pool = False
    needs_vector = True

    def __init__(self, threshold: float, reference: np.ndarray | None, enabled: bool = True) -> None:
        self.threshold = threshold
        self.reference = reference  # row 0: the domain description; then the seeds
        self.enabled = enabled

    @classmethod
    def from_config(cls, config: ChainConfig) -> RelevanceStage:
        enabled = "relevance" not in config.disabled_rules
        return cls(config.relevance_threshold, config.relevance_reference, enabled)

    def applies(self, pool: NoveltyPool) -> bool:
        return self.enabled and self.reference is not None and len(self.reference) > 0

    def check(self, candidate: StageInput, pool: NoveltyPool) -> Verdict:
        relevance = candidate.stored.get("relevance")
        if relevance is None:
            if candidate.vector is None or self.reference is None:
                return Verdict()  # neither a vector nor a stored relevance: nothing to decide on
            relevance = float(np.max(self.reference @ candidate.vector))
        if relevance < self.threshold:
            detail = f"relevance {relevance:.3f} < {self.threshold} to the dataset's domain"
            return Verdict("relevance", detail, {"relevance": relevance})
        return Verdict(scores={"relevance": relevance})
