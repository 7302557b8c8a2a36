"""The acceptor's fast path decides as the old one did: a realistic stream, every record compared.

Old: each request's candidates embedded inside the dataset's lock by the plain encoder, one locked
section per request. New (the job runner's): every request's candidates prepared together before the
lock by the caching encoder, then decided request by request in one locked section.
"""

from __future__ import annotations

import json
import random

import pytest
from sqlmodel import Session

from app.core.db import create_tables, make_engine
from app.core.settings import Settings
from app.datasets.service import ensure_default_dataset, get_dataset
from app.pipeline.acceptor import CandidateIn, accepting, decide, prepare
from app.pipeline.pools import PoolRegistry
from app.pipeline.pools_service import PoolsService
from filters.decision import DECISION_FIELDS
from filters.embedding import SentenceTransformerEmbedder
from tests.conftest import shared_file

PER_REQUEST = 12


def stream(texts: list[str], count: int, seed: int = 0) -> list[str]:
    """As the benchmark's instant server writes them: 60% texts not sent before, 25% an earlier one with a
    word dropped, swapped or replaced, 15% an earlier one repeated with its case changed."""
    rng = random.Random(seed)
    sent: list[str] = []
    fresh = iter(texts)
    out = []
    for _ in range(count):
        roll = rng.random()
        if sent and roll < 0.15:
            text = rng.choice(sent)
            out.append(text.lower() if text[0].isupper() else text.capitalize())
            continue
        if sent and roll < 0.40:
            words = rng.choice(sent).split()
            i = rng.randrange(len(words))
            kind = rng.randrange(3)
            if kind == 0 and len(words) > 4:
                del words[i]
            elif kind == 1 and i + 1 < len(words):
                words[i], words[i + 1] = words[i + 1], words[i]
            else:
                words[i] = rng.choice(rng.choice(texts).split())
            out.append(" ".join(words))
            continue
        text = next(fresh)
        sent.append(text)
        out.append(text)
    return out


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx")
    SentenceTransformerEmbedder(onnx_cache_dir=path)  # exports the encoder once for this module
    return path


def records(tmp_path, name, embedder, requests, batched):
    url = f"sqlite:///{tmp_path}/{name}.db"
    engine = make_engine(url)
    create_tables(engine)
    registry = PoolRegistry(engine, embedder, None)
    decided = []
    with Session(engine, expire_on_commit=False) as session:
        ensure_default_dataset(session, registry, Settings(database_url=url, _env_file=None))
        pool = registry.get(get_dataset(session, "default"))
        if batched:
            everything = [c for request in requests for c in request]
            prepared = prepare(registry, pool, everything)
            with accepting(session, registry, pool):
                start = 0
                for request in requests:
                    own = prepared.part(start, start + len(request), request)
                    decided += decide(session, registry, pool, request, prepared=own)
                    start += len(request)
        else:
            for request in requests:
                with accepting(session, registry, pool):
                    decided += decide(session, registry, pool, request)  # embeds under the lock
    engine.dispose()
    return [
        {"id": o.row.id, "text": o.row.instruction, "stored_vector": o.row.embedding}
        | {name: getattr(o.decision, name) for name in DECISION_FIELDS}
        for o in decided
    ]


def test_the_batched_caching_path_records_what_the_old_path_records(tmp_path, onnx_dir):
    lines = shared_file("self_instruct_seed_tasks.jsonl").read_text().splitlines()
    texts = [json.loads(line)["instruction"] for line in lines if line]
    candidates = [CandidateIn(text, "generated") for text in stream(texts, 20 * PER_REQUEST)]
    requests = [candidates[i : i + PER_REQUEST] for i in range(0, len(candidates), PER_REQUEST)]
    plain = SentenceTransformerEmbedder(onnx_cache_dir=onnx_dir)
    cached = SentenceTransformerEmbedder(onnx_cache_dir=onnx_dir, cache_items=1000)
    old = records(tmp_path, "old", plain, requests, batched=False)
    new = records(tmp_path, "new", cached, requests, batched=True)
    cache = cached._onnx.cache  # one call: the repeats are run once (every input is still in the cache)
    assert len(cache) <= cache.hits + cache.misses - 20
    assert len(old) == len(new) == len(candidates)
    assert sum(r["accepted"] for r in old) >= 40 and sum(r["rule"] == "exact_duplicate" for r in old) >= 10
    assert sum(r["rule"] == "rouge_l" for r in old) >= 10 and sum(r["max_cosine"] is not None for r in old)
    assert new == old  # every decision, score, neighbour and stored vector, exactly


def test_the_service_embedder_keeps_as_many_vectors_as_configured(tmp_path, onnx_dir):
    url = f"sqlite:///{tmp_path}/service.db"
    settings = Settings(database_url=url, onnx_cache_dir=onnx_dir, embedding_cache_items=7, _env_file=None)
    engine = make_engine(url)
    service = PoolsService.from_settings(engine, settings)
    service.wait_for_embedder()
    assert service.embedder.inner._onnx.cache.capacity == 7
    off = PoolsService.from_settings(engine, settings.model_copy(update={"embedding_cache_items": 0}))
    off.wait_for_embedder()
    assert off.embedder.inner._onnx.cache is None
    engine.dispose()
