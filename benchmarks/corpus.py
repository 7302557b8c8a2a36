"""A corpus of real English texts for benchmarks, built offline from what is installed.

No data set can be downloaded here, so the corpus is made of human-written prose that ships with the
installed Python packages and the standard library: the sentences of their docstrings (numpy, scipy,
sympy, sklearn, torch, transformers, sqlalchemy …), deduplicated, 6–60 words each, in a fixed shuffled
order. The public
instruction sets in ../shared/data come first when present. The result is cached in
``benchmarks/.cache/corpus.jsonl`` (git-ignored) so reruns are quick.
"""

from __future__ import annotations

import ast
import json
import random
import re
import sys
import sysconfig
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_NOT_PROSE = re.compile(r"[`<>{}\[\]|=_\\#@$]|::|\.\.|>>>|https?:|\w\(|\d\.\d")


def _docstrings(path: Path) -> list[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return []
    nodes = [tree] + [
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
    ]
    return [doc for node in nodes if (doc := ast.get_docstring(node))]


def _sentences(doc: str) -> list[str]:
    out = []
    for paragraph in re.split(r"\n\s*\n", doc):
        text = " ".join(paragraph.split())
        for sentence in _SENTENCE_END.split(text):
            words = sentence.split()
            if 6 <= len(words) <= 60 and sentence[0].isupper() and not _NOT_PROSE.search(sentence):
                out.append(sentence)
    return out


def _shared_instructions() -> list[str]:
    folder = ROOT.parent / "shared" / "data"
    texts = []
    for name in ("self_instruct_seed_tasks.jsonl", "self_instruct_user_oriented.jsonl"):
        path = folder / name
        if path.exists():
            texts += [json.loads(line)["instruction"] for line in path.read_text().splitlines() if line]
    return texts


def build_corpus(size: int = 120_000) -> list[str]:
    roots = [Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["stdlib"])]
    seen: set[str] = set()
    texts: list[str] = []
    for text in _shared_instructions():
        if text.lower() not in seen:
            seen.add(text.lower())
            texts.append(text)
    prose: list[str] = []
    for path in sorted(
        p for root in roots for p in root.rglob("*.py") if "site-packages" not in p.relative_to(root).parts
    ):
        for doc in _docstrings(path):
            for sentence in _sentences(doc):
                key = sentence.lower()
                if key not in seen:
                    seen.add(key)
                    prose.append(sentence)
    random.Random(0).shuffle(prose)
    return (texts + prose)[:size]


def load_corpus(size: int = 120_000) -> list[str]:
    path = CACHE / f"corpus-{size}.jsonl"
    if path.exists():
        return [json.loads(line) for line in path.read_text().splitlines()]
    texts = build_corpus(size)
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(t) + "\n" for t in texts))
    return texts


def load_corpus_embeddings(size: int = 120_000, batch: int = 4096) -> np.ndarray:
    """Normalised MiniLM embeddings (float32, ``(n, 384)``) of ``load_corpus(size)``, in the same order.

    Computed once with ``filters.embedding.SentenceTransformerEmbedder().embed`` in batches and cached as
    ``benchmarks/.cache/embeddings-{size}.npy``; partial progress is kept in a side file so an interrupted
    run resumes where it stopped (about 10 minutes for 107K texts on 2 CPU cores under torch; ONNX Runtime,
    used here as in the service, takes less).
    """
    path = CACHE / f"embeddings-{size}.npy"
    if path.exists():
        return np.load(path)
    from app.core.settings import Settings
    from filters.embedding import SentenceTransformerEmbedder

    texts = load_corpus(size)
    embedder = SentenceTransformerEmbedder(onnx_cache_dir=Settings().onnx_cache_dir, threads=2)
    partial = CACHE / f"embeddings-{size}.partial.npy"
    done = np.load(partial) if partial.exists() else np.zeros((0, embedder.dimension), dtype=np.float32)
    chunks = [done]
    for start in range(len(done), len(texts), batch):
        chunks.append(embedder.embed(texts[start : start + batch]))
        np.save(partial, np.concatenate(chunks))
        print(f"embedded {min(start + batch, len(texts))}/{len(texts)}", file=sys.stderr, flush=True)
    vectors = np.ascontiguousarray(np.concatenate(chunks), dtype=np.float32)
    np.save(path, vectors)
    partial.unlink(missing_ok=True)
    return vectors


if __name__ == "__main__":
    corpus = load_corpus()
    print(f"{len(corpus)} texts; e.g.", *corpus[500:503], sep="\n  ", file=sys.stdout)
