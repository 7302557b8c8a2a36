"""FAISS inner-product index over normalised vectors, keyed by int64 ids: exact while small, HNSW at scale.

``VectorIndex`` starts as an exact ``IndexFlatIP`` (behind ``IndexIDMap2`` for int64 ids); when an add makes
it reach ``ann_min_size`` vectors it moves every vector into an ``IndexHNSWFlat`` graph (inner product,
same id map) and stays approximate; ``ann_min_size=None`` keeps it exact. The defaults below were measured
by ``benchmarks/ann_recall.py`` on real all-MiniLM-L6-v2 embeddings of real texts. A single query runs on
one OpenMP thread (filters/faiss_threads.py). Building the graph is the costly part (12-27 s for 100K on 2
cores), so a service with a large pool ``save``s it and ``load``s it back (0.2 s for 100K), then adds the
rows with ids above ``max_id``; with nothing to load, ``add_many(..., background=True)`` keeps the vectors
in the flat index (searchable at once) and builds the graph in a thread, swapping it in with whatever was
added meanwhile. Callers serialise adds and searches (the pool lock); the background build only reads the
flat index and swaps under the index's own lock.
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

from filters.faiss_threads import single_threaded

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


class VectorIndex:
    """Cosine search over L2-normalised vectors with int64 ids: exact ``IndexFlatIP`` up to
    ``ann_min_size`` vectors, then an HNSW graph (``IndexHNSWFlat``, inner product)."""

    def __init__(
        self,
        dimension: int,
        ann_min_size: int | None = DEFAULT_ANN_MIN_SIZE,
        *,
        hnsw_m: int = DEFAULT_HNSW_M,
        ef_construction: int = DEFAULT_EF_CONSTRUCTION,
        ef_search: int = DEFAULT_EF_SEARCH,
    ) -> None:
        if ann_min_size is not None and ann_min_size < 0:
            raise ValueError("ann_min_size must be >= 0 or None")
        self.dimension = dimension
        self.ann_min_size = ann_min_size
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self._ef_search = ef_search
        self._max_id = -1
        self._unsaved = False  # vectors added (or a graph built) since the last save or load
        self._graph: faiss.IndexHNSW | None = None
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        self._swap_lock = threading.Lock()
        self._builder: threading.Thread | None = None
        if ann_min_size == 0:
            self._index, self._graph = self._new_hnsw()

    # ---- introspection -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        """``"flat"`` (exact) or ``"hnsw"`` (approximate)."""
        return "flat" if self._graph is None else "hnsw"

    @property
    def unsaved(self) -> bool:
        """True when vectors were added (or a graph built) since the index was last saved or loaded."""
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
        return faiss.vector_to_array(self._index.id_map).astype(np.int64, copy=False)

    # ---- adding --------------------------------------------------------------------------------------

    def add(self, ids: list[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under ``ids``; switches to HNSW when this add reaches ``ann_min_size``."""
        ids, vectors = self._checked(ids, vectors)
        if len(vectors) == 0:
            return
        with self._swap_lock:
            if self._switches_at(len(ids)) and not self.building:
                self._switch_to_hnsw(ids, vectors)
                self._noted(ids)
            else:
                self._append(ids, vectors)

    def add_many(
        self,
        ids: list[int] | np.ndarray,
        vectors: np.ndarray,
        *,
        background: bool = False,
        on_built: Callable[[], None] | None = None,
    ) -> None:
        """Bulk add (start-up loads): one call, one copy for flat, one parallel graph build for HNSW.

        With ``background``, an add that would build the graph adds to the flat index instead (exact,
        searchable now) and builds the graph in a thread; ``on_built`` runs there once it is swapped in.
        """
        ids, vectors = self._checked(ids, vectors)
        if not background or len(vectors) == 0 or not self._switches_at(len(ids)) or self.building:
            self.add(ids, vectors)
            return
        with self._swap_lock:
            self._append(ids, vectors)
            count = len(self)
            snapshot = (self.ids(), self._index.index.reconstruct_n(0, count))
            self._builder = threading.Thread(
                target=self._build_in_background,
                args=(count, *snapshot, on_built),
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

    def _append(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add to the current index as it is (no switch); call with the swap lock held."""
        self._index.add_with_ids(vectors, ids)
        self._noted(ids)

    def _noted(self, ids: np.ndarray) -> None:
        self._max_id = max(self._max_id, int(ids.max()))
        self._unsaved = True

    def _switches_at(self, adding: int) -> bool:
        """Whether adding ``adding`` vectors makes a flat index reach the switch point."""
        return (
            self.kind == "flat" and self.ann_min_size is not None and len(self) + adding >= self.ann_min_size
        )

    def _build_in_background(
        self, count: int, ids: np.ndarray, vectors: np.ndarray, on_built: Callable[[], None] | None
    ) -> None:
        started = time.perf_counter()
        try:
            faiss.omp_set_num_threads(os.cpu_count() or 1)  # this thread's own setting (libgomp)
            index, graph = self._new_hnsw()
            index.add_with_ids(vectors, ids)
            with self._swap_lock:
                added = len(self) - count  # added to the flat index while the graph was built
                if added:
                    index.add_with_ids(self._index.index.reconstruct_n(count, added), self.ids()[count:])
                self._index, self._graph = index, graph
                self._unsaved = True
        except Exception:
            logger.exception("building the HNSW graph failed; the index stays exact (flat)")
            return
        finally:
            self._builder = None
        logger.info(
            "built the HNSW graph (M=%d, efConstruction=%d) of %d vectors in the background in %.2fs",
            self.hnsw_m,
            self.ef_construction,
            len(self),
            time.perf_counter() - started,
        )
        if on_built is not None:
            on_built()

    def _new_hnsw(self) -> tuple[faiss.IndexIDMap2, faiss.IndexHNSWFlat]:
        graph = faiss.IndexHNSWFlat(self.dimension, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = self.ef_construction
        graph.hnsw.efSearch = self._ef_search
        return faiss.IndexIDMap2(graph), graph

    def _switch_to_hnsw(self, new_ids: np.ndarray, new_vectors: np.ndarray) -> None:
        """Move every stored vector (and the new ones) into an HNSW graph, built in one parallel add."""
        started = time.perf_counter()
        count = len(self)
        old_vectors = self._index.index.reconstruct_n(0, count) if count else new_vectors[:0]
        all_ids = np.concatenate([self.ids(), new_ids])
        all_vectors = np.concatenate([old_vectors, new_vectors])
        index, graph = self._new_hnsw()
        index.add_with_ids(all_vectors, all_ids)
        self._index, self._graph = index, graph  # readers see the old or the finished index
        logger.info(
            "vector index switched to HNSW (M=%d, efConstruction=%d) at %d vectors in %.2fs",
            self.hnsw_m,
            self.ef_construction,
            len(all_ids),
            time.perf_counter() - started,
        )

    # ---- searching -----------------------------------------------------------------------------------

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` ``(scores, ids)`` per query row; missing neighbours have id -1 and score -inf."""
        queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        if len(self) == 0 or k <= 0:
            shape = (len(queries), max(k, 0))
            return np.full(shape, -np.inf, dtype=np.float32), np.full(shape, -1, dtype=np.int64)
        if len(queries) == 1 and faiss.omp_get_max_threads() > 1:
            scores, ids = single_threaded(self._index.search, queries, k)
        else:
            scores, ids = self._index.search(queries, k)
        scores[ids < 0] = -np.inf
        return scores, ids

    def nearest(self, vector: np.ndarray) -> tuple[float | None, int | None]:
        scores, ids = self.search(vector, 1)
        if ids[0, 0] < 0:
            return None, None
        return float(scores[0, 0]), int(ids[0, 0])

    # ---- persistence ---------------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the index (either kind, with its ids) atomically: a reader never sees a half file."""
        path = Path(path)
        partial = path.with_name(path.name + ".partial")
        with self._swap_lock:
            faiss.write_index(self._index, str(partial))
            self._unsaved = False
        os.replace(partial, path)

    @classmethod
    def load(
        cls,
        path: str | Path,
        ann_min_size: int | None = DEFAULT_ANN_MIN_SIZE,
        *,
        ef_construction: int = DEFAULT_EF_CONSTRUCTION,
        ef_search: int = DEFAULT_EF_SEARCH,
    ) -> VectorIndex:
        """Read an index written by ``save``. A saved HNSW graph keeps its ``M``; the search and
        construction breadths (and, for a flat file, the switch point) come from the arguments."""
        index = faiss.read_index(str(path))
        if not isinstance(index, faiss.IndexIDMap2):
            raise ValueError(f"{path} does not hold an id-mapped index ({type(index).__name__})")
        inner = faiss.downcast_index(index.index)
        loaded = cls(index.d, ann_min_size, ef_construction=ef_construction, ef_search=ef_search)
        if isinstance(inner, faiss.IndexHNSW):
            # faiss's bundled __init__.pyi omits HNSW.nb_neighbors, which the SWIG module has (faiss 1.15)
            loaded.hnsw_m = int(inner.hnsw.nb_neighbors(1))  # type: ignore[attr-defined]
            inner.hnsw.efConstruction = ef_construction
            inner.hnsw.efSearch = ef_search
            loaded._graph = inner
        elif isinstance(inner, faiss.IndexFlatIP):
            loaded._graph = None
        else:
            raise ValueError(f"{path} holds an unsupported index ({type(inner).__name__})")
        loaded._index = index
        ids = loaded.ids()
        loaded._max_id = int(ids.max()) if len(ids) else -1
        return loaded
