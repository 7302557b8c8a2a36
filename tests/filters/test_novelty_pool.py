"""NoveltyPool: one id per item across the ROUGE index, the exact keys, the vectors and the texts."""

from __future__ import annotations

import numpy as np
import pytest

from filters.novelty_pool import NoveltyPool

E = np.eye(4, dtype=np.float32)


def test_an_item_is_in_every_index_under_its_id():
    pool = NoveltyPool(dimension=4)
    pool.add(3, "seed", "Name three primary colours.", E[0])
    pool.add(8, "generated", "Translate this sentence into French.", E[1])
    assert len(pool) == 2 and pool.last_id == 8
    assert pool.exact_twin("name three  PRIMARY colours.") == 3
    assert pool.rouge.max_score(pool.rouge.tokenize("Translate this sentence into French.")).item_id == 8
    assert pool.vectors.nearest(E[1])[1] == 8
    assert pool.seed_texts() == ["Name three primary colours."]
    assert pool.machine_texts() == ["Translate this sentence into French."]


def test_search_returns_texts_and_origins_best_first():
    pool = NoveltyPool(dimension=4)
    pool.add_many([1, 2, 3], ["seed", "seed", "generated"], ["a b c d", "e f g h", "i j k l"], E[:3])
    [hits] = pool.search(np.array([[0.1, 0.9, 0.4, 0.0]], dtype=np.float32), [2])
    assert [(h.id, h.origin) for h in hits] == [(2, "seed"), (3, "generated")]
    assert hits[0].text == "e f g h" and hits[0].score > hits[1].score


def test_a_pool_without_vectors_cannot_be_searched():
    pool = NoveltyPool()
    pool.add(1, "seed", "Name three primary colours.")
    assert not pool.searchable
    with pytest.raises(ValueError, match="no vectors"):
        pool.search(E[:1], [1])
