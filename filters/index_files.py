"""Saving and loading a :class:`~filters.index.VectorIndex`, and the faiss layouts it is made of.

One file holds the faiss index (flat or HNSW, float16 codes or float32 vectors), the ids by position, the
codec and the encoding error ``E``; a compact index also writes its float32 vectors beside it (``PATH.f32``,
:mod:`filters.exact_vectors`), first, so the index file never names vectors that are not there. Both are
written to a partial file and renamed. The index file records the checksum of its first and last float32
vector, and a load that finds another vector file (or none) refuses: the caller rebuilds from its rows.
Files of the former layout (a bare faiss ``IndexIDMap2``) are refused the same way.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from filters.exact_vectors import ExactVectors

if TYPE_CHECKING:
    from filters.index import VectorIndex

FORMAT = 2  # 1: a faiss IndexIDMap2 file


def vectors_path(path: Path) -> Path:
    return path.with_name(path.name + ".f32")


def new_flat(dimension: int, codec: str) -> faiss.Index:
    if codec == "float32":
        return faiss.IndexFlatIP(dimension)
    return faiss.IndexScalarQuantizer(dimension, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)


def new_hnsw(dimension: int, codec: str, m: int, ef_construction: int, ef_search: int) -> faiss.IndexHNSW:
    graph: faiss.IndexHNSW
    if codec == "float32":
        graph = faiss.IndexHNSWFlat(dimension, m, faiss.METRIC_INNER_PRODUCT)
    else:
        fp16 = faiss.ScalarQuantizer.QT_fp16
        # faiss's bundled .pyi types this argument as a ScalarQuantizer; the SWIG module takes the enum
        graph = faiss.IndexHNSWSQ(dimension, fp16, m, faiss.METRIC_INNER_PRODUCT)  # type: ignore[arg-type]
    graph.hnsw.efConstruction = ef_construction
    graph.hnsw.efSearch = ef_search
    return graph


def save_index(vectors: VectorIndex, index: faiss.Index, path: Path) -> None:
    """Write ``vectors`` (whose current faiss index is ``index``) to ``path`` atomically."""
    exact = vectors.exact_vectors
    if exact is not None:
        exact.save(vectors_path(path))
    fields = {
        "format": np.array(FORMAT),
        "codec": np.array(vectors.codec),
        "index": faiss.serialize_index(index),
        "ids": vectors.ids(),
        "error": np.array(vectors.error),
        "checksum": np.array(exact.checksum() if exact is not None else 0, dtype=np.int64),
    }
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as out:
        np.savez(out, **fields)  # type: ignore[arg-type]  # numpy's stub reads **kwds as allow_pickle
    os.replace(partial, path)


def load_index(
    cls: type[VectorIndex],
    path: Path,
    ann_min_size: int | None,
    ef_construction: int,
    ef_search: int,
) -> VectorIndex:
    try:
        with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as data:
            fields = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"{path} is not a saved vector index: {exc}") from exc
    if int(fields.get("format", 0)) != FORMAT:
        raise ValueError(f"{path} is not a saved vector index of format {FORMAT}")
    codec, ids = str(fields["codec"]), fields["ids"]
    index = faiss.deserialize_index(fields["index"])
    if index.ntotal != len(ids):
        raise ValueError(f"{path}: {index.ntotal} vectors for {len(ids)} ids")
    exact = None
    if codec != "float32":
        exact = ExactVectors.open(vectors_path(path), index.d, len(ids), int(fields["checksum"]))
    loaded = cls(
        index.d, ann_min_size, ef_construction=ef_construction, ef_search=ef_search, codec=codec, exact=exact
    )
    if isinstance(index, faiss.IndexHNSW):
        # faiss's bundled __init__.pyi omits HNSW.nb_neighbors, which the SWIG module has (faiss 1.15)
        loaded.hnsw_m = int(index.hnsw.nb_neighbors(1))  # type: ignore[attr-defined]
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search
        loaded._graph = index
    elif not isinstance(index, faiss.IndexFlatIP | faiss.IndexScalarQuantizer):
        raise ValueError(f"{path} holds an unsupported index ({type(index).__name__})")
    loaded._index = index
    loaded._ids, loaded._count = np.array(ids, dtype=np.int64), len(ids)
    loaded._max_id = int(ids.max()) if len(ids) else -1
    loaded.error = float(fields["error"])
    return loaded
