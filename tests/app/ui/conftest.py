"""The dashboard's browser tests: one real ``selfinstruct serve`` process (fake backend, its own SQLite file)
for the whole run, and Debian's headless Chromium driven by Playwright (``/usr/bin/chromium``; never a
browser that Playwright downloads). Screenshots go to ``SI_SCREENSHOT_DIR`` (default ``build/screenshots``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.processes import free_port, wait_until

PROJECT_ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
PORTS = range(18210, 18250)
DATASET = "garden"
DOMAIN = "practical everyday tasks: writing, planning, learning and explaining"
SEEDS = 40  # the first seed tasks of the shipped English set


@dataclass
class Service:
    """The running service: its URL, its database file, and a client sending ``headers`` (a key, once on)."""

    base: str
    database: Path
    log: Path
    headers: dict[str, str] = field(default_factory=dict)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(self.base + path, params=params, headers=self.headers, timeout=30)

    def json(self, path: str, **params: Any) -> Any:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: Any) -> httpx.Response:
        return httpx.post(self.base + path, json=body, headers=self.headers, timeout=30)


def missing_route(response: httpx.Response) -> bool:
    """The server has no such route (the endpoint comes with a later API), as opposed to a route that
    answers 404 for a job or row it does not have."""
    if response.status_code != 404:
        return False
    error = response.json()["error"]
    return error["code"] == "not_found" and error["message"] == "Not Found"


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium before the tests")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium chromium-driver)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package (test extras) is missing")
    return CHROMIUM


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Iterator[Service]:
    folder = tmp_path_factory.mktemp("dashboard")
    port, database, log = free_port(PORTS), folder / "service.db", folder / "serve.log"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TQDM_DISABLE": "1",
        "SI_BACKEND": "fake",
        "SI_JUDGE": "true",
        "SI_DATABASE_URL": f"sqlite:///{database}",
        "SI_PORT": str(port),
        "SI_WORKER_POLL_S": "0.2",
        "SI_EVENTS_POLL_S": "0.2",
        "SI_INDEX_DIR": str(folder / "indexes"),
    }
    command = Path(sys.executable).with_name("selfinstruct")  # the installed command
    server = subprocess.Popen(
        [str(command), "serve"] if command.exists() else [sys.executable, "-m", "app.cli", "serve"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    running = Service(f"http://127.0.0.1:{port}", database, log)
    try:

        def ready() -> bool:
            assert server.poll() is None, log.read_text()
            try:
                return httpx.get(running.base + "/readyz", timeout=5).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, 120, "the service ready")
        create_dataset(running)
        yield running
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def create_dataset(service: Service) -> None:
    """A dataset with a domain (relevance scores) and a judge threshold (the agreement has one to use)."""
    body = {"name": DATASET, "domain": DOMAIN, "relevance_threshold": 0.0, "judge_threshold": 3.0}
    response = service.post("/v1/datasets", body)
    assert response.status_code == 201, response.text
    lines = (PROJECT_ROOT / "seed_tasks" / "en_seed_tasks.jsonl").read_text().splitlines()[:SEEDS]
    tasks = [json.loads(line) for line in lines]
    seeds = [{k: t[k] for k in ("instruction", "instances", "is_classification", "name")} for t in tasks]
    response = service.post(f"/v1/datasets/{DATASET}/seeds", {"tasks": seeds})
    assert response.status_code == 200 and response.json()["added"] == SEEDS, response.text


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    """Chromium for one test module: Playwright's sync API runs an event loop in this thread while it is
    open, which the asyncio tests of the rest of the suite must not find running."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path), headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (its own sessionStorage); a script error on a page fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.set_default_timeout(15_000)
    yield opened
    context.close()
    assert not errors, errors


@pytest.fixture(scope="session")
def screenshots() -> Path:
    folder = Path(os.environ.get("SI_SCREENSHOT_DIR") or PROJECT_ROOT / "build" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def drawn(page: Any, name: str | None = None) -> None:
    """Wait until the page on screen is the one of the address bar's route (``name``: that page module),
    drawn with what it read."""
    page.wait_for_function(
        """name => {
            const main = document.querySelector("main");
            return main.dataset.ready === "true" && main.dataset.route === (location.hash || "#/")
                && (!name || main.dataset.page === name);
        }""",
        arg=name,
    )


def open_page(page: Any, service: Service, route: str, name: str | None = None) -> None:
    """Go to ``route`` (a hash route, e.g. ``#/jobs/3``) and wait until it is drawn."""
    page.goto(f"{service.base}/{route}")
    drawn(page, name)


def bars(page: Any, chart: str) -> list[tuple[str, str, float]]:
    """(series, label, value) of each bar of chart ``chart``, in drawing order."""
    found = page.eval_on_selector_all(
        f'figure[data-chart="{chart}"] rect.bar',
        "els => els.map(e => [e.dataset.series, e.dataset.label, Number(e.dataset.value)])",
    )
    return [tuple(bar) for bar in found]


def points(page: Any, chart: str) -> list[tuple[str, float, float]]:
    """(series, x, y) of each point of line chart ``chart``."""
    found = page.eval_on_selector_all(
        f'figure[data-chart="{chart}"] circle.point',
        "els => els.map(e => [e.dataset.series, Number(e.dataset.x), Number(e.dataset.y)])",
    )
    return [tuple(point) for point in found]


def table_rows(page: Any, chart: str) -> int:
    """Rows of the chart's visually hidden data table."""
    return page.locator(f'figure[data-chart="{chart}"] table[data-chart-table] tbody tr').count()


def generated_candidates(service: Service) -> int:
    """How many candidates the test dataset has (a job's worth, started through the API when a test runs
    alone)."""
    dataset = service.json(f"/v1/datasets/{DATASET}")
    if dataset["accepted_count"] < 10:
        response = service.post(f"/v1/datasets/{DATASET}/jobs", {"target": 40})
        assert response.status_code == 202, response.text
        job = response.json()["id"]
        wait_until(lambda: service.json(f"/v1/jobs/{job}")["status"] == "succeeded", 60, f"job {job}")
        dataset = service.json(f"/v1/datasets/{DATASET}")
    return int(dataset["accepted_count"] + dataset["rejected_count"])
