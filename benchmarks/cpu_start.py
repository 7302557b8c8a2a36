"""Restart of ``selfinstruct serve`` with the CPU default model: first start (the GGUF de-quantised, as
every start did before the cache) vs a start with the de-quantised model cached.

Each start is a fresh ``selfinstruct serve`` process (real transformers backend, a new SQLite file,
``SI_MODEL_CACHE_DIR`` an empty temporary folder for the first start, the same folder after); the time is
from the process's launch to the first ``200`` from ``/readyz`` (model loaded, indexes built). The
ONNX export of the embedder is whatever ``SI_ONNX_CACHE_DIR`` already holds, the same for every start.

    python benchmarks/cpu_start.py [--port 18420] [--cached-starts 2]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_and_wait(port: int, env: dict[str, str], timeout_s: float = 600.0) -> tuple[float, str]:
    """Seconds from launch to ready, and the log lines that name the model loads."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--no-worker",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seconds = _ready_after(process, port, started, timeout_s)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
    return seconds, "\n".join(line for line in err.splitlines() if "loaded " in line)


def _ready_after(process: subprocess.Popen[str], port: int, started: float, timeout_s: float) -> float:
    while time.perf_counter() - started < timeout_s:
        if process.poll() is not None:
            raise SystemExit(f"serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise SystemExit(f"not ready after {timeout_s} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--port", type=int, default=18420)
    parser.add_argument("--cached-starts", type=int, default=2)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "SI_BACKEND": "transformers",
            "SI_MODEL_CACHE_DIR": str(Path(tmp) / "models"),
            "SI_LOG_LEVEL": "INFO",
        }
        rows = []
        for attempt in range(1 + options.cached_starts):
            env = {**base, "SI_DATABASE_URL": f"sqlite:///{tmp}/start{attempt}.db"}
            seconds, log = start_and_wait(options.port, env)
            label = "first start (GGUF de-quantised)" if attempt == 0 else f"cached start {attempt}"
            rows.append((label, seconds, log))
        cache_size = sum(f.stat().st_size for f in (Path(tmp) / "models").rglob("*") if f.is_file())
    print(f"{'start':<34}{'ready after s':>14}")
    for label, seconds, _ in rows:
        print(f"{label:<34}{seconds:>14.1f}")
    cached = min(seconds for _, seconds, _ in rows[1:])
    print(f"ratio first / best cached: {rows[0][1] / cached:.1f}x; cache on disk: {cache_size / 1e6:.0f} MB")
    for label, _, log in rows:
        print(f"{label}: {log.strip().splitlines()[-1] if log.strip() else '(no load line)'}")


if __name__ == "__main__":
    main()
