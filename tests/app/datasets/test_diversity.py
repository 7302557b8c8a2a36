"""Diversity figures: the nearest-neighbour mean over sampled query rows is the brute-force mean over
those rows (neighbours searched among all rows); distinct n-grams from tokens equal those from texts."""

from __future__ import annotations

import random

import numpy as np

from app.datasets.diversity import NgramWindow, distinct_n, distinct_n_tokens, mean_nn_similarity, tokenize
from app.datasets.telemetry import NN_QUERIES, diversity


def brute_force(vectors: np.ndarray, rows: list[int]) -> float:
    best = []
    for i in rows:
        sims = [float(vectors[i] @ vectors[j]) for j in range(len(vectors)) if j != i]
        best.append(max(sims))
    return round(float(np.mean(best)), 4)


def unit_vectors(n: int, seed: int = 3) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, 16)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_the_nearest_neighbour_mean_over_queries_is_the_brute_force_one():
    vectors = unit_vectors(60)
    assert mean_nn_similarity(vectors) == brute_force(vectors, list(range(60)))
    queries = np.array([0, 7, 19, 59])
    assert mean_nn_similarity(vectors, queries) == brute_force(vectors, [0, 7, 19, 59])
    assert mean_nn_similarity(vectors[:1]) is None


def test_diversity_is_exact_up_to_the_query_limit_and_says_when_it_samples():
    texts = [f"Write a poem about topic {i} and {i % 7}." for i in range(NN_QUERIES + 40)]
    vectors = unit_vectors(len(texts))
    small = diversity(texts[:50], [v.tobytes() for v in vectors[:50]])
    assert small["nn_queries"] == 50 and small["mean_nn_similarity"] == brute_force(
        vectors[:50], list(range(50))
    )
    large = diversity(texts, [v.tobytes() for v in vectors])
    assert large["nn_queries"] == NN_QUERIES and large["accepted"] == len(texts)
    for n in (1, 2, 3):
        grams = [tuple(t[i : i + n]) for t in map(tokenize, texts) for i in range(len(t) - n + 1)]
        assert distinct_n(texts, n) == round(len(set(grams)) / len(grams), 4)
    assert diversity([], [])["mean_nn_similarity"] is None


def test_the_sliding_ngram_window_equals_counting_its_texts_again():
    rng = random.Random(1)
    words = ["a", "b", "c", "the", "of", "cat", "Dog", "dog"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 6))) for _ in range(300)]
    for step in (1, 13, 50, 299):
        window = NgramWindow(50)
        for start in range(0, len(texts), step):
            window.extend(texts[start : start + step])
            end = min(start + step, len(texts))
            held = texts[max(0, end - 50) : end]
            tokens = [tokenize(text) for text in held]
            assert len(window) == len(held)
            assert window.distinct(1) == distinct_n_tokens(tokens, 1)
            assert window.distinct(2) == distinct_n_tokens(tokens, 2)
    assert NgramWindow(5).distinct(2) == 0.0
