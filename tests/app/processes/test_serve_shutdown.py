"""``selfinstruct serve`` stopped by SIGINT while jobs run and an event stream is open, logging JSON.

The server is a real process (tests/app/processes/fake_server.py: the ``serve`` command's body with the
fake backend slowed down far beyond the test's bound, as a CPU model's long generate would be). The stream
must end with ``end``, the process exit within the bound without waiting for the model calls, the log say
what it waited for, both running jobs be back in the queue with no lease (so any worker resumes them),
and every log line be one JSON object carrying its request id or job id, with no API key in it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine
from sqlmodel import Session, select

from app.cli import server_sent_events
from app.models import Job
from tests.app.processes.test_worker_processes import PROJECT_ROOT
from tests.support.processes import free_port, wait_until

MODEL_CALL_S = 60.0  # each fake request: far longer than the bound, so waiting for one would fail
EXIT_BOUND_S = 8.0  # ≤ 5 s on an idle machine; the bound leaves room for a shared one
FAKE_KEY = "si_" + "A" * 43  # the shape of an API key: it must never reach the log


def follow(url: str, events: list[tuple[str, str]]) -> None:
    with (
        httpx.Client(timeout=httpx.Timeout(10.0, read=None)) as client,
        client.stream("GET", url) as response,
    ):
        for name, data in server_sent_events(response.iter_lines()):
            events.append((name, data))


def test_sigint_ends_streams_hands_leases_back_and_exits_within_seconds(tmp_path: Path):
    port, database = free_port(range(18150, 18200)), tmp_path / "service.db"
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TQDM_DISABLE": "1",  # a library's progress bar is not a log line
        "SI_DATABASE_URL": f"sqlite:///{database}",
        "SI_PORT": str(port),
        "SI_WORKERS": "2",
        "SI_MAX_IN_FLIGHT": "2",
        "SI_WORKER_POLL_S": "0.2",
        "SI_EVENTS_POLL_S": "0.2",
        "SI_INDEX_DIR": str(tmp_path / "indexes"),
        "SI_LOG_FORMAT": "json",
        "FAKE_DELAY_S": str(MODEL_CALL_S),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.app.processes.fake_server"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    events: list[tuple[str, str]] = []
    try:
        with httpx.Client(base_url=base, timeout=10.0) as client:

            def ready() -> bool:
                assert server.poll() is None, log.read_text()
                try:
                    return client.get("/readyz").status_code == 200
                except httpx.TransportError:
                    return False

            wait_until(ready, 180, "the server ready", every=0.5)
            jobs = []
            for n in (1, 2):
                response = client.post(
                    "/v1/datasets/default/jobs",
                    json={"target": 500},
                    headers={"X-Request-ID": f"post-job-{n}"},
                )
                assert response.status_code == 202 and response.headers["X-Request-ID"] == f"post-job-{n}"
                jobs.append(response.json()["id"])
            client.get(f"/v1/jobs/{jobs[0]}", params={"api_key": FAKE_KEY})  # a key in a URL is logged
            wait_until(
                lambda: all(client.get(f"/v1/jobs/{j}").json()["status"] == "running" for j in jobs),
                30,
                "both jobs running",
            )
        reader = threading.Thread(target=follow, args=(f"{base}/v1/jobs/{jobs[0]}/events", events))
        reader.start()
        wait_until(lambda: events, 30, "the first progress event")
        started = time.monotonic()
        server.send_signal(signal.SIGINT)
        server.wait(30)
        exit_s = time.monotonic() - started
        reader.join(10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    text = log.read_text()
    print(f"exit after SIGINT: {exit_s:.2f}s")
    assert exit_s < EXIT_BOUND_S, text
    assert server.returncode == 0, text

    names = [name for name, _ in events]
    assert names[0] == "progress" and names[-1] == "end", names
    assert json.loads(events[-1][1])["status"] == "running"  # as last read: the client reconnects

    engine = create_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        rows = session.exec(select(Job).where(Job.id.in_(jobs))).all()  # type: ignore[union-attr]
    engine.dispose()
    assert {(row.status, row.lease_owner) for row in rows} == {("queued", None)}

    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
    messages = [line["message"] for line in lines]
    assert f"stopping: waiting up to 3.0s for 2 job thread(s): job {jobs[0]}, job {jobs[1]}" in messages
    assert any(m.startswith("stopping: cancelling ") and "backend request(s)" in m for m in messages)
    # status 0, at once; how many calls are still computing at that moment depends on the timing
    abandoned = [
        m
        for m in messages
        if re.fullmatch(r"exiting without waiting for [1-9][0-9]* abandoned model call\(s\)", m)
    ]
    assert abandoned, [m for m in messages if "stop" in m or "exit" in m or "wait" in m]
    posts = [line for line in lines if "POST /v1/datasets/default/jobs" in line["message"]]
    assert [line["request_id"] for line in posts] == ["post-job-1", "post-job-2"]
    paused = [line for line in lines if "paused for shutdown" in line["message"]]
    assert sorted(line["job_id"] for line in paused) == sorted(jobs)
    assert all(line["message"].startswith(f"job {line['job_id']} ") for line in paused)
    assert FAKE_KEY not in text and "si_[redacted]" in text
