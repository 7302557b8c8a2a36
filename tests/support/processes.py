"""Waiting on real processes from a test: a free port of a test's own range, and polling a condition."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any


def free_port(ports: range) -> int:
    """The first port of ``ports`` nothing listens on (each test file keeps to its own range)."""
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {ports.start}-{ports.stop - 1}")


def wait_until(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """``condition()``'s first truthy value, polled every ``every`` seconds; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
