"""RougeNoveltyIndex gives exactly rouge-score's ROUGE-L F, and the earliest neighbour on ties."""

from __future__ import annotations

import json
import random
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer

from filters.rouge import RougeMatch, RougeNoveltyIndex

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
VOCAB = ["the", "cat", "sat", "on", "mat", "dog"]


def brute_force(candidate: str, pool: list[tuple[int, str]]) -> RougeMatch:
    """The rule of DESIGN.md: max F over the pool, the earliest item on ties."""
    best, best_id = 0.0, None
    for item_id, text in pool:
        score = SCORER.score(candidate, text)["rougeL"].fmeasure
        if best_id is None or score > best:
            best, best_id = score, item_id
    return RougeMatch(best, best_id)


def assert_gate_matches_brute_force(
    index: RougeNoveltyIndex, pool: list[tuple[int, str]], candidate: str, threshold: float = 0.7
) -> RougeMatch:
    """The index's decision at ``threshold`` is the loop's, with the same score and item when it rejects."""
    expected = brute_force(candidate, pool)
    got = index.max_score(index.tokenize(candidate))
    assert (got.score > threshold) == (expected.score > threshold)
    if expected.score > threshold:
        assert (got.score, got.item_id) == (expected.score, expected.item_id)
    return expected


def build_index(pool: list[tuple[int, str]]) -> RougeNoveltyIndex:
    index = RougeNoveltyIndex()
    for item_id, text in pool:
        index.add(item_id, index.tokenize(text))
    return index


def shared_instructions(name: str) -> list[str]:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"public data set {path} is absent (expected ../shared/data beside the project)")
    return [json.loads(line)["instruction"] for line in path.read_text(encoding="utf-8").splitlines() if line]


sentence = st.lists(st.sampled_from(VOCAB), min_size=0, max_size=8).map(" ".join)
THRESHOLDS = (0.5, 0.6, 2 / 3, 0.7, 0.75)


@settings(max_examples=300, deadline=None)
@given(candidate=sentence, texts=st.lists(sentence, min_size=1, max_size=6))
def test_full_scan_equals_rouge_scorer_brute_force(candidate, texts):
    pool = [(1000 + 7 * i, text) for i, text in enumerate(texts)]
    got = build_index(pool).max_score(RougeNoveltyIndex.tokenize(candidate), floor=0.0)
    expected = brute_force(candidate, pool)
    assert got.score == expected.score  # exact, not approximate
    assert got.item_id == expected.item_id
    assert got.exact


@settings(max_examples=300, deadline=None)
@given(
    candidate=sentence,
    texts=st.lists(sentence, min_size=1, max_size=12),
    threshold=st.sampled_from(THRESHOLDS),
    bulk=st.booleans(),
)
def test_decisions_equal_brute_force_at_every_threshold(candidate, texts, threshold, bulk):
    """Small vocabularies hit F exactly at 0.5, 0.6, 2/3 and 0.75 often: the boundary cases."""
    pool = [(i, text) for i, text in enumerate(texts)]
    index = RougeNoveltyIndex(threshold)
    if bulk:
        index.add_many((i, index.tokenize(t)) for i, t in pool)
    else:
        for i, t in pool:
            index.add(i, index.tokenize(t))
    got = index.max_score(index.tokenize(candidate))
    expected = brute_force(candidate, pool)
    assert (got.score > threshold) == (expected.score > threshold)
    if expected.score >= threshold:
        assert (got.score, got.item_id, got.exact) == (expected.score, expected.item_id, True)
    else:
        assert got.score <= expected.score


@pytest.mark.parametrize("threshold", [0.7, 0.5, 0.6, 0.75])
def test_constructed_pairs_whose_exact_f_equals_the_threshold(threshold):
    """LCS = t(m+n)/2 exactly: the float formula decides, and the index must agree with it."""
    frac = Fraction(threshold).limit_denominator(20)
    cases = 0
    for m in range(1, 41):
        for n in range(1, 41):
            lcs = frac * (m + n) / 2
            if lcs.denominator != 1 or not 0 < lcs <= min(m, n):
                continue
            common = [f"w{i}" for i in range(int(lcs))]
            item = " ".join(common + [f"x{i}" for i in range(m - int(lcs))])
            candidate = " ".join(common + [f"y{i}" for i in range(n - int(lcs))])
            index = RougeNoveltyIndex(float(frac))
            index.add(1, index.tokenize(item))
            expected = SCORER.score(candidate, item)["rougeL"].fmeasure
            got = index.max_score(index.tokenize(candidate))
            assert (got.score > float(frac)) == (expected > float(frac)), (m, n)
            assert got.score == expected
            cases += 1
    assert cases > 20


@settings(max_examples=25, deadline=None)
@given(
    texts=st.lists(
        st.lists(st.sampled_from(VOCAB + ["a", "b", "c", "d"]), min_size=1, max_size=10),
        min_size=300,
        max_size=320,
    ),
    candidates=st.lists(st.lists(st.sampled_from(VOCAB), max_size=10), min_size=5, max_size=5),
)
def test_decisions_survive_reranking_of_a_growing_pool(texts, candidates):
    """Past 256 items the element order is recomputed; incremental adds must stay exact."""
    pool = [(i, " ".join(t)) for i, t in enumerate(texts)]
    index = build_index(pool)
    for words in candidates:
        assert_gate_matches_brute_force(index, pool, " ".join(words))


@settings(max_examples=40, deadline=None)
@given(
    bulk=st.lists(st.lists(st.sampled_from(VOCAB + ["a", "b"]), max_size=9), min_size=1, max_size=40),
    later=st.lists(st.lists(st.sampled_from(VOCAB + ["a", "b", "new"]), max_size=9), min_size=1, max_size=20),
    candidates=st.lists(st.lists(st.sampled_from(VOCAB + ["new"]), max_size=9), min_size=3, max_size=3),
)
def test_adds_after_a_bulk_load_stay_exact(bulk, later, candidates):
    """Bulk-built postings (arrays) turn into growing lists on the first add that touches them."""
    pool = [(i, " ".join(t)) for i, t in enumerate(bulk + later)]
    index = RougeNoveltyIndex()
    index.add_many((i, index.tokenize(text)) for i, text in pool[: len(bulk)])
    for i, text in pool[len(bulk) :]:
        index.add(i, index.tokenize(text))
    for words in candidates:
        expected = assert_gate_matches_brute_force(index, pool, " ".join(words))
        full = index.max_score(index.tokenize(" ".join(words)), floor=0.0)
        assert (full.score, full.item_id) == (expected.score, expected.item_id)


@pytest.mark.parametrize("bulk", [True, False])
def test_items_longer_than_the_pool_is_large_are_found(bulk):
    """A few items of thousands of tokens: the length table reaches the longest item, not the pool size."""
    rng = random.Random(7)
    words = [f"w{i}" for i in range(400)]
    long_texts = [" ".join(rng.choice(words) for _ in range(length)) for length in (2500, 1900, 3100)]
    pool = [(i, text) for i, text in enumerate(long_texts)]
    index = RougeNoveltyIndex()
    if bulk:
        index.add_many((i, index.tokenize(text)) for i, text in pool)
    else:
        for i, text in pool:
            index.add(i, index.tokenize(text))
    for text in long_texts:
        tokens = text.split()
        for at in rng.sample(range(len(tokens)), 40):
            tokens[at] = "edited"
        match = assert_gate_matches_brute_force(index, pool, " ".join(tokens))
        assert match.score > 0.9  # a near-duplicate, which the gate must reject


@settings(max_examples=200, deadline=None)
@given(
    texts=st.lists(st.lists(st.sampled_from(VOCAB + ["a", "b"]), max_size=14), min_size=1, max_size=60),
    candidate=st.lists(st.sampled_from(VOCAB + ["a", "new"]), min_size=1, max_size=14),
    threshold=st.sampled_from(THRESHOLDS),
)
def test_the_probe_keeps_every_item_that_can_reach_the_threshold(texts, candidate, threshold):
    """The length slices of the postings drop only items whose exact F is below the threshold."""
    index = RougeNoveltyIndex(threshold)
    index.add_many((i, words) for i, words in enumerate(texts))
    query = [index._vocab.get(token, -1) for token in candidate]
    probed = set(index._probe(query)[0].tolist())
    for position, words in enumerate(texts):
        score = SCORER.score(" ".join(candidate), " ".join(words))["rougeL"].fmeasure
        if score >= threshold:
            assert position in probed, (words, score)


def test_ties_keep_the_earliest_item():
    pool = [(5, "the cat sat"), (3, "the cat sat"), (9, "the cat sat on the mat")]
    match = build_index(pool).max_score(RougeNoveltyIndex.tokenize("the cat sat"))
    assert match == RougeMatch(1.0, 5)
    scan = build_index(pool).max_score(RougeNoveltyIndex.tokenize("the cat sat"), floor=0.0)
    assert scan == RougeMatch(1.0, 5)


def test_all_zero_scores_report_the_first_item():
    pool = [(4, "dog"), (2, "mat")]
    assert build_index(pool).max_score(RougeNoveltyIndex.tokenize("the cat"), floor=0.0) == RougeMatch(0.0, 4)
    below = build_index(pool).max_score(RougeNoveltyIndex.tokenize("the cat"))
    assert below.score == 0.0 and not below.exact


def test_empty_pool_has_no_neighbour():
    index = RougeNoveltyIndex()
    assert len(index) == 0
    assert index.max_score(["the", "cat"]) == RougeMatch(0.0, None)


def test_len_counts_added_items():
    index = build_index([(1, "a b"), (2, "c d"), (3, "a b")])
    assert len(index) == 3


def test_real_seed_instructions_match_rouge_scorer():
    seeds = shared_instructions("self_instruct_seed_tasks.jsonl")
    others = shared_instructions("self_instruct_user_oriented.jsonl")
    pool = list(enumerate(seeds))
    index = build_index(pool)
    candidates = seeds[::25] + others[::25]  # seeds score 1.0 against themselves
    assert len(candidates) >= 10
    for candidate in candidates:
        got = index.max_score(index.tokenize(candidate), floor=0.0)
        expected = brute_force(candidate, pool)
        assert (got.score, got.item_id) == (expected.score, expected.item_id), candidate
    assert index.max_score(index.tokenize(seeds[50])) == RougeMatch(1.0, seeds.index(seeds[50]))


def test_chinese_near_duplicates_are_caught():
    index = build_index([(1, "请写一首关于秋天的诗"), (2, "解释一下光合作用")])
    match = index.max_score(index.tokenize("请写一首关于春天的诗"))
    assert match.item_id == 1
    assert match.score == pytest.approx(0.9)  # 9 of 10 characters in common
    # rouge-score itself sees no tokens at all, so it would call every Chinese candidate novel
    assert SCORER.score("请写一首关于春天的诗", "请写一首关于秋天的诗")["rougeL"].fmeasure == 0.0


def perturb_chinese(text: str, rng: random.Random) -> str:
    """Replace one character and end with a full stop: what a model does when it repeats a task."""
    chars = list(text)
    hanzi = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
    chars[rng.choice(hanzi)] = rng.choice("的一是在不了有和人这中大为上个国")
    return "".join(chars).rstrip("。？！") + "。"


def test_perturbed_belle_rows_are_caught_where_rouge_score_sees_nothing():
    rows = shared_instructions("belle_zh_seed_tasks.jsonl")
    pool = list(enumerate(rows))
    index = build_index(pool)
    rng = random.Random(3)
    originals = [text for text in rows[::3] if sum("\u4e00" <= c <= "\u9fff" for c in text) >= 5]
    assert len(originals) >= 30
    caught = rouge_score_caught = 0
    for original in originals:
        perturbed = perturb_chinese(original, rng)
        rouge_score_caught += SCORER.score(perturbed, original)["rougeL"].fmeasure > 0.7
        match = index.max_score(index.tokenize(perturbed))
        caught += match.score > 0.7
    assert caught / len(originals) >= 0.9, f"caught {caught} of {len(originals)}"
    assert rouge_score_caught / len(originals) <= 0.2  # it keeps only [a-z0-9]: most rows are empty to it
    # and distinct Chinese tasks are not confused with each other
    distinct = [index.max_score(index.tokenize(text)) for text in rows[:60]]
    assert all(m.score == 1.0 for m in distinct)  # each finds itself


def test_postings_stay_sorted_by_item_length_through_bulk_loads_adds_and_rebuilds():
    """Every posting ascends by entry (item length, then position): what the length slices rely on."""
    rng = random.Random(11)
    words = VOCAB + ["a", "b", "c"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))) for _ in range(700)]
    index = RougeNoveltyIndex()
    index.add_many((i, index.tokenize(t)) for i, t in enumerate(texts[:300]))
    for i, t in enumerate(texts[300:], start=300):  # passes 600 items: a rebuild from the grown pool
        index.add(i, index.tokenize(t))
        if i in (301, 599, 699):
            arrays = index._postings._sorted.values()
            assert arrays and all(np.all(np.diff(a) > 0) for a in arrays)
    pool = list(enumerate(texts))
    for words_ in (texts[5].split(), texts[650].split(), ["the", "cat", "new"]):
        assert_gate_matches_brute_force(index, pool, " ".join(words_))


def test_the_combined_sort_key_orders_rows_as_lexsort_does():
    from filters.rouge import _order_by

    rng = np.random.default_rng(0)
    major, middle, minor = rng.integers(0, 50, 5000), rng.integers(0, 7, 5000), rng.integers(0, 3, 5000)
    assert np.array_equal(_order_by((major, 50), (middle, 7), (minor, 3)), np.lexsort((minor, middle, major)))
    wide, narrow = rng.integers(0, 2**40, 500), rng.integers(0, 2**30, 500)  # past int64: lexsort itself
    assert np.array_equal(_order_by((wide, 2**40), (narrow, 2**30)), np.lexsort((narrow, wide)))
