"""FAISS inner-product index over normalised vectors, keyed by int64 ids: exact while small, HNSW at scale.

``VectorIndex`` starts flat (exhaustive); when an add makes it reach ``ann_min_size`` vectors it moves every
vector into an HNSW graph (inner product) and stays approximate; ``ann_min_size=None`` keeps it flat. By
default it holds float16 codes (``codec="fp16"``: 768 bytes per 384-d vector, not 1,536) and the float32
vectors on disk (:mod:`filters.exact_vectors`); each search re-scores exactly the hits that could matter
(:mod:`filters.rescoring` derives the bound), so a flat index answers what a float32 ``IndexFlatIP`` would
(same top k, same float32 scores) and a graph gives exact scores for the hits it finds. ``codec="float32"``
keeps float32 vectors in memory (the former layout). Positions map to ids through one int64 array.

Defaults measured by ``benchmarks/ann_recall.py`` on real all-MiniLM-L6-v2 embeddings. A single query runs
on one OpenMP thread (filters/faiss_threads.py). Building the graph is costly (12-27 s for 100K on 2 cores),
so a large pool is ``save``d and ``load``ed (:mod:`filters.index_files`), then catches up ids above
``max_id``; with nothing to load, ``add_many(..., background=True)`` keeps the vectors flat (searchable at
once) and builds the graph in a thread, swapping it in with whatever was added meanwhile. Callers serialise
adds and searches (the pool lock); the background build reads the flat index, swaps under its own lock.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

from filters.exact_vectors import CODECS, DEFAULT_CODEC, ExactVectors
from filters.faiss_threads import Found, searcher
from filters.index_files import load_index, new_flat, new_hnsw, save_index
from filters.lookahead import Answer, Start, now
from filters.rescoring import Hit, encoding_error, first_hit, top_k_later

logger = logging.getLogger(__name__)

# Measured with benchmarks/ann_recall.py (real MiniLM embeddings, 1,000 held-out queries, k=10, 2 cores):
# HNSW answers one query faster than the (one-thread) flat scan from 10K vectors on: p50 0.29 vs 0.31 ms at
# 10K, 0.35 vs 0.90 ms at 20K, 0.57 vs 6.1 ms at 100K (with one core kept busy the crossover moved to 20K:
# 0.37 vs 0.33 ms at 10K). M=32 / efConstruction=80 was chosen among M 16-48 x efConstruction 40-160 (its
# 100K build: ~20 s); efSearch=128 gives recall@10 0.9948 at 100K (96: 0.9924, 64: 0.9873) and recall@10
# >= 0.9986 up to 20K. The switch itself builds the graph once: ~1-2 s at 10K.
DEFAULT_ANN_MIN_SIZE = 10_000
DEFAULT_HNSW_M = 32
DEFAULT_EF_CONSTRUCTION = 80
DEFAULT_EF_SEARCH = 128
BUILD_CHUNK = 65_536  # vectors read back from disk per add of a background graph build


class VectorIndex:
    """Cosine search over L2-normalised vectors with int64 ids: a flat index up to ``ann_min_size``
    vectors, then an HNSW graph (inner product); float16 codes re-scored exactly, or float32 vectors."""

    def __init__(
        self,
        dimension: int,
        ann_min_size: int | None = DEFAULT_ANN_MIN_SIZE,
        *,
        hnsw_m: int = DEFAULT_HNSW_M,
        ef_construction: int = DEFAULT_EF_CONSTRUCTION,
        ef_search: int = DEFAULT_EF_SEARCH,
        codec: str = DEFAULT_CODEC,
        exact: ExactVectors | None = None,
    ) -> None:
        if ann_min_size is not None and ann_min_size < 0:
            raise ValueError("ann_min_size must be >= 0 or None")
        if codec not in CODECS:
            raise ValueError(f"unknown vector codec {codec!r} (one of {', '.join(CODECS)})")
        self.dimension = dimension
        self.ann_min_size = ann_min_size
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.codec = codec
        self._ef_search = ef_search
        self._max_id = -1
        self._unsaved = False  # vectors added (or a graph built) since the last save or load
        self._ids = np.empty(0, dtype=np.int64)  # by position; capacity grows by doubling
        self._count = 0
        self.error = 0.0  # the largest ‖decode(encode(x)) − x‖ so far (filters/rescoring.py)
        compact = codec != "float32"
        # the float32 vectors a compact index re-scores from (None for codec="float32")
        self.exact_vectors = (exact or ExactVectors(dimension)) if compact else None
        self._quantizer = faiss.ScalarQuantizer(dimension, faiss.ScalarQuantizer.QT_fp16) if compact else None
        self._graph: faiss.IndexHNSW | None = None
        self._index: faiss.Index = new_flat(dimension, codec)
        self._swap_lock = threading.Lock()
        self._builder: threading.Thread | None = None
        if ann_min_size == 0:
            self._index, self._graph = self._new_hnsw()

    def __len__(self) -> int:
        return self._count

    @property
    def kind(self) -> str:
        """``"flat"`` (exact) or ``"hnsw"`` (approximate)."""
        return "flat" if self._graph is None else "hnsw"

    @property
    def unsaved(self) -> bool:  # vectors added (or a graph built) since the last save or load
        return self._unsaved

    @property
    def building(self) -> bool:
        """True while a background build of the HNSW graph runs (searches meanwhile are exact)."""
        return self._builder is not None

    def wait_built(self, timeout: float | None = None) -> bool:
        """Wait for a background graph build, if one runs; True when none is running any more."""
        builder = self._builder
        if builder is not None:
            builder.join(timeout)
        return self._builder is None

    @property
    def ef_search(self) -> int:
        """HNSW search breadth (candidates kept per query): higher is slower and more exact."""
        return self._ef_search

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        self._ef_search = value
        if self._graph is not None:
            self._graph.hnsw.efSearch = value

    @property
    def max_id(self) -> int:
        """Largest id ever added (-1 when empty): rows above it are the ones to catch up after a load."""
        return self._max_id

    def ids(self) -> np.ndarray:
        """The stored ids, in insertion order (a copy)."""
        return self._ids[: self._count].copy()

    def vectors(self, start: int, stop: int) -> np.ndarray:
        """The float32 vectors at positions ``start … stop-1``, as they were added."""
        if self.exact_vectors is not None:
            return self.exact_vectors.read_range(start, stop)
        return self._index.reconstruct_n(start, stop - start)

    def add(self, ids: list[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under ``ids``; switches to HNSW when this add reaches ``ann_min_size``."""
        ids, vectors = self._checked(ids, vectors)
        if len(vectors) == 0:
            return
        with self._swap_lock:
            switching = self._switches_at(len(ids)) and not self.building
            self._keep(ids, vectors)
            if switching:
                self._switch_to_hnsw(vectors)
            else:
                self._index.add(vectors)

    def add_many(
        self,
        ids: list[int] | np.ndarray,
        vectors: np.ndarray,
        *,
        background: bool = False,
        on_built: Callable[[], None] | None = None,
    ) -> None:
        """Bulk add (start-up loads): one call, one copy for flat, one parallel graph build for HNSW. With
        ``background``, an add that would build the graph adds to the flat index instead (exact,
        searchable now) and builds the graph in a thread; ``on_built`` runs there once it is swapped in."""
        ids, vectors = self._checked(ids, vectors)
        if not background or len(vectors) == 0 or not self._switches_at(len(ids)) or self.building:
            self.add(ids, vectors)
            return
        with self._swap_lock:
            self._keep(ids, vectors)
            self._index.add(vectors)
            # float32 vectors are copied now (the flat index grows meanwhile); the float32 file only grows
            copied = None if self.exact_vectors is not None else self.vectors(0, len(self))
            self._builder = threading.Thread(
                target=self._build_in_background,
                args=(len(self), copied, on_built),
                name="hnsw-builder",
                daemon=True,
            )
            self._builder.start()

    def _checked(self, ids: list[int] | np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        return ids, vectors

    def _keep(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Record the ids (and, for a compact index, the float32 vectors and their encoding error)."""
        end = self._count + len(ids)
        if end > len(self._ids):
            grown = np.empty(max(end, 2 * len(self._ids), 64), dtype=np.int64)
            grown[: self._count] = self._ids[: self._count]
            self._ids = grown
        self._ids[self._count : end] = ids
        if self.exact_vectors is not None and self._quantizer is not None:
            self.exact_vectors.append(vectors)
            self.error = max(self.error, encoding_error(self._quantizer, vectors))
        self._count = end
        self._max_id = max(self._max_id, int(ids.max()))
        self._unsaved = True

    def _switches_at(self, adding: int) -> bool:
        """Whether adding ``adding`` vectors makes a flat index reach the switch point."""
        limit = self.ann_min_size
        return self.kind == "flat" and limit is not None and len(self) + adding >= limit

    def _build_in_background(
        self, count: int, copied: np.ndarray | None, on_built: Callable[[], None] | None
    ) -> None:
        started = time.perf_counter()
        try:
            faiss.omp_set_num_threads(os.cpu_count() or 1)  # this thread's own setting (libgomp)
            index, graph = self._new_hnsw()
            for start in range(0, count, BUILD_CHUNK):  # float32 read back a chunk at a time
                stop = min(start + BUILD_CHUNK, count)
                index.add(copied[start:stop] if copied is not None else self.vectors(start, stop))
            with self._swap_lock:
                if len(self) > count:  # added to the flat index while the graph was built
                    index.add(self.vectors(count, len(self)))
                self._index, self._graph = index, graph
                self._unsaved = True
        except Exception:
            logger.exception("building the HNSW graph failed; the index stays exact (flat)")
            return
        finally:
            self._builder = None
        took = time.perf_counter() - started
        logger.info(
            "built the HNSW graph (M=%d) of %d vectors in the background in %.2fs",
            self.hnsw_m,
            len(self),
            took,
        )
        if on_built is not None:
            on_built()

    def _new_hnsw(self) -> tuple[faiss.Index, faiss.IndexHNSW]:
        graph = new_hnsw(self.dimension, self.codec, self.hnsw_m, self.ef_construction, self._ef_search)
        return graph, graph

    def _switch_to_hnsw(self, new_vectors: np.ndarray) -> None:
        """Move every stored vector (and the new ones, already kept) into an HNSW graph, one parallel add."""
        started = time.perf_counter()
        old = len(self) - len(new_vectors)
        index, graph = self._new_hnsw()
        index.add(np.concatenate([self.vectors(0, old), new_vectors]) if old else new_vectors)
        self._index, self._graph = index, graph  # readers see the old or the finished index
        took = time.perf_counter() - started
        logger.info(
            "vector index switched to HNSW (M=%d) at %d vectors in %.2fs", self.hnsw_m, len(self), took
        )

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` ``(scores, ids)`` per query row; missing neighbours have id -1 and score -inf."""
        return self.search_later(vectors, k)()

    def search_later(
        self, vectors: np.ndarray, k: int, start: Start = now, breadth: int | None = None
    ) -> Answer[Found]:
        """:meth:`search` in two steps (filters/rescoring.py's ``top_k_later``): the FAISS search handed
        to ``start`` now (``lookahead.ahead``: a helper thread), the rest when the answer is asked for.
        ``breadth``: this search's efSearch on a graph (default :attr:`ef_search`)."""
        index, graph = self._index, self._graph  # what this search reads, even if a build swaps them
        approximate = searcher(index, breadth if graph is not None else None)
        queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        ids = self._ids[: self._count]
        return top_k_later(approximate, self.exact_vectors, self.error, ids, queries, k, start)

    def nearest(self, vector: np.ndarray) -> tuple[float | None, int | None]:
        return self.nearest_later(vector)()

    def nearest_later(
        self, vector: np.ndarray, start: Start = now, breadth: int | None = None
    ) -> Answer[Hit]:
        """:meth:`nearest` as :meth:`search_later` splits it."""
        return first_hit(self.search_later(vector, 1, start, breadth))

    def save(self, path: str | Path) -> None:
        """Write the index (either kind, its ids and vectors) atomically: a reader never sees half a file."""
        with self._swap_lock:
            save_index(self, self._index, Path(path))
            self._unsaved = False

    @classmethod
    def load(
        cls,
        path: str | Path,
        ann_min_size: int | None = DEFAULT_ANN_MIN_SIZE,
        *,
        ef_construction: int = DEFAULT_EF_CONSTRUCTION,
        ef_search: int = DEFAULT_EF_SEARCH,
    ) -> VectorIndex:
        """Read an index written by ``save`` (else ``ValueError``); a graph keeps its ``M``."""
        return load_index(cls, Path(path), ann_min_size, ef_construction, ef_search)
