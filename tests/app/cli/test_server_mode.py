"""``selfinstruct generate --server``: the job runs on a live service; the CLI follows its event stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from typer.testing import CliRunner

from app.cli import app, server_sent_events
from app.main import create_app
from generators.backends.fake import FakeBackend

runner = CliRunner()


@pytest.fixture
def live_server(settings, embedder) -> Iterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, embedder=embedder, backend=FakeBackend(delay_s=0.05)),
            host="127.0.0.1",
            port=0,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not (server.started and server.servers):
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


def test_generate_on_a_server_follows_the_job_to_its_end(live_server):
    result = runner.invoke(
        app,
        ["generate", "--dataset", "default", "--target", "6", "--server", live_server],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "job 1 succeeded" in result.output and "6 accepted of" in result.output


def test_generate_on_a_server_reports_its_errors(live_server):
    missing = runner.invoke(app, ["generate", "--dataset", "nope", "--target", "2", "--server", live_server])
    assert missing.exit_code == 2 and "dataset 'nope' does not exist" in missing.output
    unreachable = runner.invoke(
        app, ["generate", "--dataset", "default", "--target", "2", "--server", "http://127.0.0.1:9"]
    )
    assert unreachable.exit_code == 2 and "cannot talk to http://127.0.0.1:9" in unreachable.output


def test_server_sent_events_parsing():
    lines = [
        ": ping",
        "event: progress",
        'data: {"a": 1}',
        "",
        "data: x",
        "data: y",
        "",
        "event: end",
        "data: z",
        "",
    ]
    assert list(server_sent_events(lines)) == [("progress", '{"a": 1}'), ("message", "x\ny"), ("end", "z")]
