"""Log lines: text or one JSON object a line, each with its request id and job id; API keys redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from app.core import logging as log_context
from app.core.logging import configure_logging

KEY = "si_" + "x" * 40 + "-_Z"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield io.StringIO()
    root.handlers[:] = handlers  # the handler the test configured goes
    root.setLevel(level)
    logging.captureWarnings(False)


def log_in_context(message: str, *args: object) -> None:
    request = log_context.request_id.set("req-1")
    job = log_context.job_id.set(7)
    try:
        logging.getLogger("app.test").warning(message, *args)
    finally:
        log_context.job_id.reset(job)
        log_context.request_id.reset(request)
    logging.getLogger("app.test").warning("outside any request")


def test_json_lines_carry_request_and_job_ids_and_no_key(stream):
    configure_logging("INFO", "json", stream)
    log_in_context("key %s refused", KEY)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "key si_[redacted] refused"
    assert (first["request_id"], first["job_id"], first["level"], first["logger"]) == (
        "req-1",
        7,
        "WARNING",
        "app.test",
    )
    assert "request_id" not in second and "job_id" not in second
    assert KEY not in stream.getvalue()


def test_text_lines_name_the_context_and_reconfiguring_replaces_the_handler(stream):
    configure_logging("INFO", "json", io.StringIO())
    configure_logging("INFO", "text", stream)  # one handler of the service's at a time
    log_in_context(f"pasted {KEY}")
    first, second = stream.getvalue().splitlines()
    assert first.endswith("WARNING app.test: pasted si_[redacted] [request=req-1 job=7]")
    assert second.endswith("WARNING app.test: outside any request")


def test_an_exception_in_json_is_one_line(stream):
    configure_logging("INFO", "json", stream)
    try:
        raise ValueError(f"bad key {KEY}")
    except ValueError:
        logging.getLogger("app.test").exception("failed")
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["message"] == "failed" and "ValueError: bad key si_[redacted]" in entry["exception"]
