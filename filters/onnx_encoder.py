"""A sentence-transformers text encoder run by ONNX Runtime: same vectors, a fraction of the CPU time.

The model's transformer is exported once with ``torch.onnx.export`` and cached; tokenization, mean
pooling and L2 normalisation follow the sentence-transformers pipeline (``Transformer → Pooling(mean) →
Normalize``), so the vectors match the torch ones (cosine ≥ 0.9999999 on real queries). Measured on a
2-core machine, one thread: a 14-word query in 6.4 ms against 15.7 ms with torch. Models with any other
module layout are not handled here (the caller keeps torch for them).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


def supports(model: Any) -> bool:
    """True for ``Transformer → Pooling(mean) → [Normalize]`` models, the layout this encoder mirrors."""
    modules = [type(module).__name__ for module in model]
    if modules[:2] != ["Transformer", "Pooling"] or any(m != "Normalize" for m in modules[2:]):
        return False
    pooling = model[1]
    mode = getattr(pooling, "pooling_mode", None) or getattr(pooling, "get_pooling_mode_str", lambda: "")()
    return mode in ("mean", "pooling_mode_mean_tokens") or bool(
        getattr(pooling, "pooling_mode_mean_tokens", 0)
    )


def _cache_file(model_dir: Path, cache_dir: Path) -> Path:
    weights = sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin"))
    fingerprint = hashlib.sha256()
    for path in [model_dir / "config.json", *weights]:
        if path.exists():
            stat = path.stat()
            fingerprint.update(f"{path.name}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    return cache_dir / f"{model_dir.name}-{fingerprint.hexdigest()[:16]}.onnx"


class OnnxTextEncoder:
    """Runs a loaded sentence-transformers model's encoder through ONNX Runtime (thread-safe)."""

    def __init__(self, model: Any, model_dir: Path, cache_dir: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        self.tokenizer = model.tokenizer
        self.max_length = int(model.max_seq_length)
        path = _cache_file(model_dir, cache_dir)
        if not path.exists():
            self._export(model, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]

    def _export(self, model: Any, path: Path) -> None:
        import torch

        started = time.perf_counter()
        encoder = model[0].auto_model.eval()
        sample = self.tokenizer(["an example", "another example sentence"], padding=True, return_tensors="pt")
        names = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in sample]

        class Hidden(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.encoder = encoder

            def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
                return self.encoder(**dict(zip(names, inputs, strict=True))).last_hidden_state

        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "hidden"]}
        with torch.inference_mode(False), torch.no_grad():
            torch.onnx.export(
                Hidden().eval(),
                tuple(sample[n] for n in names),
                str(partial),
                input_names=names,
                output_names=["hidden"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        os.replace(partial, path)
        logger.info("exported the text encoder to %s in %.1fs", path, time.perf_counter() - started)

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Mean-pooled, L2-normalised float32 vectors, in input order (batches sorted by length)."""
        order = np.argsort([-len(text) for text in texts], kind="stable")
        chunks = []
        for start in range(0, len(texts), batch_size):
            batch = [texts[i] for i in order[start : start + batch_size]]
            encoded = self.tokenizer(
                batch, padding=True, truncation=True, max_length=self.max_length, return_tensors="np"
            )
            feeds = {name: encoded[name].astype(np.int64) for name in self.input_names}
            hidden = self.session.run(None, feeds)[0]
            mask = encoded["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            chunks.append(pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))
        vectors = np.empty((len(texts), chunks[0].shape[1]), dtype=np.float32)
        vectors[order] = np.concatenate(chunks)
        return vectors
