"""A GGUF model de-quantised once: the weights transformers makes of a ``.gguf`` file, saved as a plain
model folder (safetensors, config, tokenizer) so the next start loads them instead of de-quantising again.

The folder is named after the GGUF file and a fingerprint of it (resolved path, size, modification time)
and of the transformers version that de-quantised it, so a changed or replaced file, or another
transformers, never loads stale weights: it gets a new folder, and older folders of the same file are
removed. A folder is written beside its final name and renamed into place, so a process that stops
mid-write, or two processes writing at once, never leave a half-written one to be loaded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)
_WRITING = ".writing-"


def cache_folder(gguf: Path, cache_dir: Path) -> Path:
    """Where the de-quantised weights of ``gguf`` are (or will be) kept."""
    import transformers

    stat = gguf.stat()
    fingerprint = hashlib.sha256(
        f"{gguf.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:transformers {transformers.__version__}".encode()
    )
    return cache_dir / f"{gguf.stem}-{fingerprint.hexdigest()[:16]}"


def cached(gguf: Path, cache_dir: Path) -> Path | None:
    """The complete cached folder of ``gguf``, or None when there is none yet."""
    folder = cache_folder(gguf, cache_dir)
    return folder if (folder / "config.json").is_file() else None


def save(model: Any, tokenizer: Any, gguf: Path, cache_dir: Path) -> Path | None:
    """Save a model de-quantised from ``gguf`` (and its tokenizer); returns the folder, or None when it
    could not be written (logged: the model still runs, the next start de-quantises again)."""
    folder = cache_folder(gguf, cache_dir)
    partial = folder.with_name(f"{folder.name}{_WRITING}{os.getpid()}")
    # transformers de-quantises GGUF weights at load and keeps its GGUF quantizer only to refuse saving:
    # the tensors are plain ones, so the model is saved as a plain one
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        try:
            partial.rename(folder)
        except OSError:  # another process put it there first: keep theirs
            shutil.rmtree(partial, ignore_errors=True)
    except OSError:
        logger.exception("could not cache the de-quantised %s in %s", gguf.name, cache_dir)
        shutil.rmtree(partial, ignore_errors=True)
        return None
    _remove_stale(gguf, folder)
    return folder


def _remove_stale(gguf: Path, current: Path) -> None:
    """Older folders of the same file (another fingerprint); folders being written are left alone."""
    for other in current.parent.glob(f"{gguf.stem}-*"):
        if other != current and _WRITING not in other.name and other.is_dir():
            logger.info("removing the stale de-quantised model %s", other)
            shutil.rmtree(other, ignore_errors=True)
