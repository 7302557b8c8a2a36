"""The de-quantised GGUF model is saved once and loaded from the cache after; a changed GGUF file is
never served from an older folder (its folder is replaced)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from generators.backends import gguf_cache
from generators.backends.transformers_backend import TransformersBackend


class _Saved:
    """Stands for a model or tokenizer: ``save_pretrained`` writes the files the cache looks for."""

    def __init__(self, source: str, quantized: bool = False) -> None:
        self.source = source
        self.config = SimpleNamespace(quantization_config="gguf")
        self.hf_quantizer: object | None = object() if quantized else None  # as a model from a GGUF
        self.chat_template = None

    def save_pretrained(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.hf_quantizer is not None:
            raise ValueError("The model is quantized with gguf and is not serializable")
        (folder / "config.json").write_text(f'{{"from": "{self.source}"}}')

    def to(self, device: str) -> _Saved:
        return self

    def eval(self) -> _Saved:
        return self


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    path = tmp_path / "models" / "Tiny.Q4.gguf"
    path.parent.mkdir()
    path.write_bytes(b"GGUF v1")
    return path


def _change(path: Path) -> None:
    path.write_bytes(b"GGUF v2, longer")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_saved_once_then_found_and_replaced_when_the_file_changes(gguf: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert gguf_cache.cached(gguf, cache) is None
    first = gguf_cache.save(_Saved("v1", quantized=True), _Saved("v1"), gguf, cache)
    assert first is not None and gguf_cache.cached(gguf, cache) == first
    assert first.name.startswith("Tiny.Q4-") and not list(cache.glob("*.writing-*"))

    _change(gguf)
    assert gguf_cache.cached(gguf, cache) is None  # the old folder is not the changed file's
    second = gguf_cache.save(_Saved("v2", quantized=True), _Saved("v2"), gguf, cache)
    assert second is not None and second != first
    assert gguf_cache.cached(gguf, cache) == second
    assert not first.exists()  # the stale one is removed


def test_a_half_written_folder_is_never_loaded(gguf: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    folder = gguf_cache.cache_folder(gguf, cache)
    folder.mkdir(parents=True)  # a folder without its files, as a crash before the rename could not leave
    assert gguf_cache.cached(gguf, cache) is None


def test_backend_loads_the_gguf_once_then_the_cache(
    gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import transformers

    calls: list[tuple[str, dict[str, Any]]] = []

    def loader(model: bool) -> Any:
        def from_pretrained(folder: str, **kwargs: Any) -> _Saved:
            calls.append((folder, kwargs))
            return _Saved(folder, quantized=model and "gguf_file" in kwargs)

        return staticmethod(from_pretrained)

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", loader(model=True))
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", loader(model=False))
    cache = tmp_path / "cache"

    first = TransformersBackend(gguf, device="cpu", cache_dir=cache)
    first.load()
    assert not first.loaded_from_cache
    assert calls == [(str(gguf.parent), {"gguf_file": gguf.name})] * 2
    calls.clear()

    again = TransformersBackend(gguf, device="cpu", cache_dir=cache)
    again.load()
    folder = str(gguf_cache.cache_folder(gguf, cache))
    assert again.loaded_from_cache and calls == [(folder, {})] * 2
    assert again.model_id == "Tiny.Q4"
    calls.clear()

    _change(gguf)
    changed = TransformersBackend(gguf, device="cpu", cache_dir=cache)
    changed.load()
    assert not changed.loaded_from_cache and calls[0] == (str(gguf.parent), {"gguf_file": gguf.name})
    calls.clear()

    TransformersBackend(gguf, device="cpu").load()  # no cache dir: de-quantised every time, nothing saved
    assert calls[0][1] == {"gguf_file": gguf.name}


@pytest.mark.slow
def test_real_model_from_the_cache_generates_the_same(tmp_path: Path) -> None:
    from generators.backends.base import SamplingParams
    from generators.prompts import Prompt

    prompt = Prompt(text="Come up with a series of tasks:\n1.", messages=(), first_number=2, raw=True)
    params = SamplingParams(max_tokens=12, temperature=0.0, n=1)
    first = TransformersBackend(device="cpu", cache_dir=tmp_path)
    first.load()
    expected = first.generate(prompt, params).completions[0].text
    first.unload()
    again = TransformersBackend(device="cpu", cache_dir=tmp_path)
    again.load()
    assert again.loaded_from_cache
    assert again.generate(prompt, params).completions[0].text == expected
