"""The texts, vectors and brute force of ``benchmarks/million_service.py``: a large pool of real texts.

Texts: the ASCII texts among the first 100,000 of ``benchmarks/corpus.py`` (real English sentences) are the
*base* texts; every other pool text is a perturbation of a base text (1–4 edits drawn from: swap two
adjacent words, drop a word, repeat a word, replace a word by a word of another corpus text, change one
word's case), deterministic by seed. Vectors: the base texts' real all-MiniLM-L6-v2 embeddings
(``load_corpus_embeddings``); a perturbed text gets a near-duplicate of its base text's vector,
``normalize(v + σ·g/√384)`` with ``g`` standard normal and ``σ`` uniform in [0.2, 1.0] (as
``benchmarks/million_pool.py`` makes them), not its own embedding — embedding a million texts on this CPU
would take hours.

The brute force decides a candidate as the chain ``exact, rouge, embedding`` does, from the definitions:
exact duplicate = same text after whitespace runs → one space and case folding; ROUGE-L = rouge-score's
``RougeScorer(["rougeL"], use_stemmer=False)`` F against stored texts, rejected when the max is ``>`` the
threshold, the earliest item on ties; cosine = float32 inner product against every stored vector, ``>``
the threshold. Texts that cannot reach the ROUGE-L threshold are skipped: LCS ≤ the multiset overlap of the
two token lists, so F = 2·LCS/(m+n) ≤ 2·overlap/(m+n), and a text whose bound is below the threshold (by
more than 1e-9), including every text sharing no token with the candidate, scores at most that bound.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from rouge_score import rouge_scorer
from scipy import sparse

from benchmarks.corpus import load_corpus, load_corpus_embeddings

EMBEDDED = 100_000  # corpus texts with cached real embeddings
DIMENSION = 384


def base_texts(count: int) -> tuple[list[str], np.ndarray, list[str]]:
    """``count`` ASCII base texts with their real vectors, and the held-out ASCII texts after them."""
    corpus = load_corpus(120_000)
    vectors = load_corpus_embeddings(EMBEDDED)
    positions = [i for i in range(EMBEDDED) if corpus[i].isascii()][:count]
    held_out = [t for t in corpus[EMBEDDED:] if t.isascii()]
    return [corpus[i] for i in positions], vectors[positions], held_out


def perturb(text: str, rng: random.Random, vocabulary: list[str], edits: int) -> str:
    words = text.split()
    for _ in range(edits):
        at = rng.randrange(len(words))
        edit = rng.choice(("swap", "drop", "repeat", "replace", "case"))
        if edit == "swap" and len(words) > 1:
            at = min(at, len(words) - 2)
            words[at], words[at + 1] = words[at + 1], words[at]
        elif edit == "drop" and len(words) > 4:
            del words[at]
        elif edit == "repeat":
            words.insert(at, words[at])
        elif edit == "replace":
            words[at] = rng.choice(vocabulary)
        else:
            words[at] = rng.choice((str.upper, str.lower, str.title))(words[at])
    return " ".join(words)


def near_vectors(originals: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    sigma = rng.uniform(0.2, 1.0, size=(len(originals), 1)).astype(np.float32)
    noise = rng.standard_normal(originals.shape, dtype=np.float32) / np.float32(np.sqrt(DIMENSION))
    noisy = originals + sigma * noise
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def make_pool(items: int, seed: int = 0) -> tuple[list[str], np.ndarray, list[str], list[str]]:
    """``items`` pool texts (base texts first) with their vectors; the base texts; held-out texts."""
    bases, base_vectors, held_out = base_texts(min(items, max(1, items // 10)))
    rng = random.Random(seed)
    vocabulary = " ".join(bases[:20_000]).split()
    picks = [rng.randrange(len(bases)) for _ in range(items - len(bases))]
    texts = bases + [perturb(bases[i], rng, vocabulary, rng.randint(1, 4)) for i in picks]
    vectors = np.concatenate([base_vectors, near_vectors(base_vectors[picks], np.random.default_rng(seed))])
    return texts, vectors, bases, held_out


def candidates(bases: list[str], held_out: list[str], count: int, seed: int) -> list[str]:
    """About half near-duplicates of pool texts (1–3 edits; some only change case), half unseen texts."""
    rng = random.Random(seed)
    vocabulary = " ".join(bases[:20_000]).split()
    novel = rng.sample(held_out, count - count // 2)
    near = [perturb(rng.choice(bases), rng, vocabulary, rng.randint(1, 3)) for _ in range(count // 2)]
    mixed = novel + near
    rng.shuffle(mixed)
    return mixed


def exact_key(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass
class BruteForce:
    """Every stored text and vector, and the candidates accepted since (they join the pool in order)."""

    texts: list[str]
    vectors: np.ndarray
    rouge_threshold: float = 0.7
    embedding_threshold: float = 0.85
    scorer: rouge_scorer.RougeScorer = field(
        default_factory=lambda: rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    )

    def __post_init__(self) -> None:
        tokenize = self.scorer._tokenizer.tokenize
        vocab: dict[str, int] = {}
        rows, cols, counts = [], [], []
        self.lengths = np.zeros(len(self.texts), dtype=np.int32)
        for position, text in enumerate(self.texts):
            tokens = tokenize(text)
            self.lengths[position] = len(tokens)
            for token, count in Counter(tokens).items():
                rows.append(position)
                cols.append(vocab.setdefault(token, len(vocab)))
                counts.append(count)
        self.vocab = vocab
        self.matrix = sparse.csc_matrix(
            (np.array(counts, dtype=np.int32), (np.array(rows), np.array(cols))),
            shape=(len(self.texts), len(vocab)),
        )
        self.keys: dict[str, int] = {}
        for position, text in enumerate(self.texts):
            self.keys.setdefault(exact_key(text), position + 1)
        self.ids = list(range(1, len(self.texts) + 1))
        self.extra_vectors: list[np.ndarray] = []
        self.scored = 0  # ROUGE-L pairs rouge-score computed

    def accept(self, item_id: int, text: str, vector: np.ndarray) -> None:
        self.keys.setdefault(exact_key(text), item_id)
        self.ids.append(item_id)
        self.texts.append(text)
        self.extra_vectors.append(vector)

    def max_rouge(self, text: str) -> tuple[float, int | None]:
        """Best ROUGE-L F against the pool when it can exceed the threshold (else ``(≤ t, None)``)."""
        tokens = self.scorer._tokenizer.tokenize(text)
        overlap = np.zeros(self.matrix.shape[0], dtype=np.int32)
        for token, count in Counter(tokens).items():
            column = self.vocab.get(token)
            if column is not None:
                start, stop = self.matrix.indptr[column], self.matrix.indptr[column + 1]
                rows = self.matrix.indices[start:stop]
                overlap[rows] += np.minimum(self.matrix.data[start:stop], count)
        bound = 2 * overlap / np.maximum(len(tokens) + self.lengths, 1)
        positions = np.flatnonzero(bound >= self.rouge_threshold - 1e-9)
        stored = len(self.lengths)
        scored = [(float(bound[p]), int(p)) for p in positions]
        scored += [(1.0, p) for p in range(stored, len(self.texts))]  # accepted since: always scored
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        best, best_id = 0.0, None
        for limit, position in scored:
            if limit < best - 1e-9:
                break
            score = self.scorer.score(self.texts[position], text)["rougeL"].fmeasure
            self.scored += 1
            item_id = self.ids[position]
            if score > best or (score == best and best_id is not None and item_id < best_id):
                best, best_id = score, item_id
        return best, best_id

    def max_cosine(self, vector: np.ndarray) -> tuple[float, int]:
        scores = self.vectors @ vector
        position = int(np.argmax(scores))
        best, best_id = float(scores[position]), position + 1
        for item_id, extra in zip(self.ids[len(self.lengths) :], self.extra_vectors, strict=True):
            score = float(extra @ vector)
            if score > best:
                best, best_id = score, item_id
        return best, best_id

    def decide(self, text: str, vector: np.ndarray) -> dict[str, object]:
        """The chain's rule (None: accepted) and what it measured."""
        twin = self.keys.get(exact_key(text))
        cosine, cosine_id = self.max_cosine(vector)
        if twin is not None:
            return {"rule": "exact_duplicate", "max_cosine": cosine, "cosine_neighbor_id": cosine_id}
        rouge, rouge_id = self.max_rouge(text)
        rule = None
        if rouge > self.rouge_threshold:
            rule = "rouge_l"
        elif cosine > self.embedding_threshold:
            rule = "embedding"
        return {
            "rule": rule,
            "max_rouge_l": rouge if rouge_id is not None else None,
            "rouge_neighbor_id": rouge_id,
            "max_cosine": cosine,
            "cosine_neighbor_id": cosine_id,
        }


def compare(service: list[dict], brute: list[dict]) -> str:
    same = sum(s["rule"] == b["rule"] for s, b in zip(service, brute, strict=True))
    rouge = [(s, b) for s, b in zip(service, brute, strict=True) if b["rule"] == "rouge_l"]
    rouge_same = sum(
        s["max_rouge_l"] == b["max_rouge_l"] and s["rouge_neighbor_id"] == b["rouge_neighbor_id"]
        for s, b in rouge
    )
    scored = [(s, b) for s, b in zip(service, brute, strict=True) if s["max_cosine"] is not None]
    cos_same = sum(s["cosine_neighbor_id"] == b["cosine_neighbor_id"] for s, b in scored)
    gap = max((abs(s["max_cosine"] - b["max_cosine"]) for s, b in scored), default=0.0)
    rules: dict[str, int] = {}
    for b in brute:
        rules[b["rule"] or "accepted"] = rules.get(b["rule"] or "accepted", 0) + 1
    return (
        f"identical decisions {same}/{len(brute)} (brute force: {rules}); ROUGE-L rejections with the same "
        f"max and neighbour {rouge_same}/{len(rouge)}; cosine neighbour identical {cos_same}/{len(scored)}, "
        f"max |Δ cosine| {gap:.2e}"
    )
