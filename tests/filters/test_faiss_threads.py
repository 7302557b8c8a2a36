"""FAISS search helpers: a search's own efSearch on an HNSW graph, the index's setting left alone."""

from __future__ import annotations

import faiss
import numpy as np

from filters.faiss_threads import searcher


def test_a_search_breadth_is_the_graphs_ef_search_for_that_search_only():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    graph = faiss.IndexHNSWFlat(16, 4, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = 16
    graph.add(vectors)
    queries = vectors[:200] + 0.3 * rng.standard_normal((200, 16)).astype(np.float32)
    graph.hnsw.efSearch = 5
    narrow = graph.search(queries, 5)[1]
    graph.hnsw.efSearch = 300
    wide = graph.search(queries, 5)[1]
    assert not np.array_equal(narrow, wide)  # the breadth changes the answer on this graph
    assert np.array_equal(searcher(graph, 5)(queries, 5)[1], narrow)
    assert graph.hnsw.efSearch == 300
    assert np.array_equal(searcher(graph)(queries, 5)[1], wide)
    assert np.array_equal(searcher(graph, 5)(queries[:1], 5)[1], narrow[:1])  # one row: one thread
