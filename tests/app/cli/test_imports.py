"""``selfinstruct --help`` and every command's ``--help`` load none of the heavy modules: a command
imports the database, the models and the backends only when it runs (benchmarks/cli_startup.py
measures the CPU this saves)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("sqlmodel", "sqlalchemy", "numpy", "torch", "faiss", "fastapi", "httpx", "app.core.settings")
COMMANDS = [
    [],
    ["serve"],
    ["worker"],
    ["generate"],
    ["instances"],
    ["ingest"],
    ["import"],
    ["search"],
    ["export"],
    ["snapshot"],
    ["seeds", "add"],
    ["keys", "create"],
    ["templates", "add"],
    ["replay"],
    ["review", "queue"],
    ["review", "set"],
    ["review", "agreement"],
]
PROBE = """
import json, sys
from app.cli import app
try:
    app(sys.argv[1:] + ["--help"])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "heavy": [m for m in HEAVY if m in sys.modules]}))
"""


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "selfinstruct")
def test_help_loads_no_heavy_module(command: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROBE}", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "heavy": []}
    assert "Usage:" in done.stdout
