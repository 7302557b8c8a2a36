"""How many threads one model or index call may use in this process."""

from __future__ import annotations

import os
import sys


def set_compute_threads(threads: int) -> None:
    """One intra-op thread per torch or FAISS call by default. Measured on the 2-core machines this runs
    on while another process was busy: a MiniLM query took 14 ms with 1 thread and 500 ms with 2
    (OpenMP threads waiting for each other), SmolLM2 made 15.8 tokens/s against 2.3, and a flat FAISS
    search took 0.3 ms against 8-24 ms. Throughput comes from running calls concurrently instead.

    torch is not imported for this (a service on ONNX Runtime and a remote model never loads it): when it
    is not loaded yet, ``OMP_NUM_THREADS`` tells it when it is."""
    import faiss

    faiss.omp_set_num_threads(threads)
    torch = sys.modules.get("torch")
    if torch is None:
        os.environ["OMP_NUM_THREADS"] = str(threads)
    elif torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
