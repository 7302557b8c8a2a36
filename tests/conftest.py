"""Shared fixtures: one real embedder per session, apps built with create_app(test settings)."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from app.core.settings import Settings  # noqa: E402
from app.main import create_app  # noqa: E402
from filters.embedding import SentenceTransformerEmbedder  # noqa: E402
from generators.backends.base import LLMBackend  # noqa: E402
from generators.backends.fake import FakeBackend  # noqa: E402
from tests.postgres import POSTGRES_PARAM, postgres_server, postgres_url  # noqa: E402, F401

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def shared_file(name: str) -> Path:
    """A public data file from ../shared/data, or a loud skip when the folder is absent."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"public data set {path} is absent (expected ../shared/data beside the project)")
    return path


class CountingEmbedder:
    """Wraps the real embedder and counts the texts it embeds."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.dimension = inner.dimension
        self.model_id = inner.model_id
        self.texts_embedded = 0
        self.query_calls: list[int] = []  # the number of texts of each embed_queries call

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts_embedded += len(texts)
        return self.inner.embed(texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.texts_embedded += len(texts)
        self.query_calls.append(len(texts))
        return self.inner.embed_queries(texts)


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.fixture
def embedder(real_embedder: SentenceTransformerEmbedder) -> CountingEmbedder:
    return CountingEmbedder(real_embedder)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_databases`` run on SQLite and on PostgreSQL; the rest on SQLite."""
    if "database_url" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_databases"):
        metafunc.parametrize("database_url", ["sqlite", POSTGRES_PARAM], indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if getattr(request, "param", "sqlite") == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path}/test.db"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        backend="fake",
        worker_poll_s=0.05,
        index_dir=tmp_path / "indexes",
        _env_file=None,
    )


AppFactory = Callable[..., "asynccontextmanager[httpx.AsyncClient]"]


@pytest.fixture
def client_for(settings: Settings, embedder: CountingEmbedder):
    """``async with client_for(backend=...) as client``: the real app, lifespan included."""

    @asynccontextmanager
    async def factory(
        backend: LLMBackend | None = None,
        settings_: Settings | None = None,
        workers: bool = True,
        ready_timeout: float = 10,
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(
            settings_ or settings, embedder=embedder, backend=backend or FakeBackend(), workers=workers
        )
        async with app.router.lifespan_context(app):
            backend_, pools = app.state.backend, app.state.pools
            assert backend_.ready.wait(ready_timeout), f"backend not ready: {backend_.error}"
            assert pools.ready.wait(ready_timeout), "dataset indexes not ready"
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                client.app_state = app.state  # type: ignore[attr-defined]  (the lifespan's services)
                yield client

    return factory


@pytest.fixture
async def client(client_for) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for() as c:
        yield c


def assert_error(response: httpx.Response, status: int, code: str, mentions: str | None = None) -> dict:
    """The one error shape, with the expected status and code, naming the problem."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if mentions is not None:
        assert mentions in body["error"]["message"], body
    return body["error"]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "PostgreSQL" in str(r.longrepr)]
    if skipped:
        terminalreporter.write_sep("!", f"{len(skipped)} PostgreSQL tests SKIPPED", red=True, bold=True)
        terminalreporter.write_line(str(skipped[0].longrepr[-1]), red=True)


@pytest.fixture(autouse=True)
def _no_model_call_left_running() -> Iterator[None]:
    """A test whose blocking model calls still run seconds after it ended fails: an abandoned call must
    stop (generators.backends.base.call_abandoned), and one computing at exit aborts the process."""
    yield
    from generators.backends.base import running_model_calls

    deadline = time.monotonic() + 10
    while running_model_calls() and time.monotonic() < deadline:
        time.sleep(0.05)
    if running_model_calls():
        pytest.fail(f"{running_model_calls()} model call(s) still running 10 s after the test")
