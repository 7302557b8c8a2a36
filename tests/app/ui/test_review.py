"""The review queue without a mouse (j/k to move, a approve, r reject, e edit + Enter, Esc cancels), the
states checked through the API; then, with API keys on, a read-only key: the page still reads, and a
review it sends anyway is refused in the one error shape, shown as the server words it, changing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from app.core.auth import create_key, revoke_key
from tests.app.ui.conftest import (
    DATASET,
    Service,
    drawn,
    generated_candidates,
    missing_route,
    open_page,
    wait_until,
)

pytestmark = pytest.mark.browser
REVIEW_ROUTE = f"#/datasets/{DATASET}/review"


def queue_ids(page: Any) -> list[int]:
    return page.eval_on_selector_all("li[data-item]", "els => els.map(e => Number(e.dataset.item))")


def current(page: Any) -> int:
    return int(page.locator('li[data-item][aria-current="true"]').get_attribute("data-item"))


def history(service: Service, instruction_id: int) -> list[dict]:
    return service.json(f"/v1/datasets/{DATASET}/reviews", instruction_id=instruction_id)


def test_review_three_rows_with_the_keyboard(page: Any, service: Service, screenshots):
    generated_candidates(service)
    queue = service.json(f"/v1/datasets/{DATASET}/review-queue", limit=20)["items"]
    assert len(queue) >= 4
    open_page(page, service, REVIEW_ROUTE, "review")
    ids = queue_ids(page)
    assert ids == [item["id"] for item in queue]
    scores = page.eval_on_selector_all(
        "li[data-item] [data-judge-score]", "els => els.map(e => e.dataset.judgeScore)"
    )
    assert scores == ["" if item["judge_score"] is None else f"{item['judge_score']:g}" for item in queue]

    page.get_by_label("Reviewer name").fill("ui-reviewer")
    page.locator(f'li[data-item="{ids[0]}"]').focus()
    page.keyboard.press("j")
    assert current(page) == ids[1]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("k")
    page.keyboard.press("ArrowUp")
    assert current(page) == ids[0]

    page.keyboard.press("a")
    page.locator(f'li[data-item="{ids[0]}"][data-state="approved"]').wait_for()
    assert current(page) == ids[1]
    page.keyboard.press("r")
    page.locator(f'li[data-item="{ids[1]}"][data-state="rejected"]').wait_for()
    page.keyboard.press("e")
    editor = page.locator(f'textarea[data-edit="{ids[2]}"]')
    assert editor.evaluate("e => e === document.activeElement")
    edited = "Explain, in under fifty words, how to keep a sourdough starter alive."
    editor.fill(edited)
    editor.press("Enter")
    page.locator(f'li[data-item="{ids[2]}"][data-state="edited"]').wait_for()
    assert current(page) == ids[3]
    page.keyboard.press("e")
    page.locator(f'textarea[data-edit="{ids[3]}"]').fill("not saved")
    page.keyboard.press("Escape")
    page.locator(f'textarea[data-edit="{ids[3]}"]').wait_for(state="detached")
    assert page.locator(f'li[data-item="{ids[3]}"]').get_attribute("data-state") == "unreviewed"
    page.screenshot(path=str(screenshots / "review.png"), full_page=True)

    verdicts = {i: history(service, i) for i in ids[:4]}
    assert [(r["state"], r["reviewer"]) for r in verdicts[ids[0]]] == [("approved", "ui-reviewer")]
    assert [(r["state"], r["reviewer"]) for r in verdicts[ids[1]]] == [("rejected", "ui-reviewer")]
    assert [(r["state"], r["edited_text"]) for r in verdicts[ids[2]]] == [("edited", edited)]
    assert verdicts[ids[3]] == []  # Esc cancelled the edit
    after = [item["id"] for item in service.json(f"/v1/datasets/{DATASET}/review-queue", limit=20)["items"]]
    assert not set(ids[:3]) & set(after) and ids[3] in after


@pytest.fixture
def read_key(service: Service) -> Iterator[str]:
    """API keys on (a read key and a write key stored in the service's database) for one test; revoked
    after it, so the service is open again."""
    engine = create_engine(f"sqlite:///{service.database}")
    with Session(engine) as session:
        reader, read = create_key(session, "dashboard-read", "read")
        writer, _ = create_key(session, "dashboard-write", "write")
        key_ids = [reader.id, writer.id]
    wait_until(lambda: httpx.get(f"{service.base}/v1/datasets", timeout=10).status_code == 401, 10, "keys on")
    service.headers = {"Authorization": f"Bearer {read}"}
    try:
        yield read
    finally:
        service.headers = {}
        with Session(engine) as session:
            for key_id in key_ids:
                revoke_key(session, key_id)  # type: ignore[arg-type]
        engine.dispose()
        wait_until(
            lambda: httpx.get(f"{service.base}/v1/datasets", timeout=10).status_code == 200, 10, "keys off"
        )


def test_a_read_only_key_cannot_review_and_nothing_changes(
    page: Any, service: Service, read_key: str, screenshots
):
    generated_candidates(service)
    shell = httpx.get(f"{service.base}/", timeout=10)  # the shell holds no data: no key needed
    assert shell.status_code == 200 and shell.headers["content-type"].startswith("text/html")
    assert httpx.get(f"{service.base}/ui/static/js/main.js", timeout=10).status_code == 200
    auth = httpx.get(f"{service.base}/v1/auth", timeout=10)
    reports_scope = not missing_route(auth)

    page.goto(f"{service.base}/{REVIEW_ROUTE}")
    if reports_scope:  # no key entered: the page asks for one
        assert auth.status_code == 401 and auth.json()["error"]["code"] == "unauthorized"
        drawn(page, "key")
    else:  # the page's first read is refused: it says so and links the key page
        drawn(page, "review")
        page.get_by_role("alert").get_by_text("an API key is required").wait_for()
    open_page(page, service, "#/key", "key")
    key_field = page.get_by_label("API key", exact=True)
    key_field.fill(read_key)
    key_field.press("Enter")
    if reports_scope:
        page.locator('[data-fact="scope"]').get_by_text("read", exact=True).wait_for()
    page.screenshot(path=str(screenshots / "key.png"), full_page=True)
    if reports_scope:  # read-only: no job can be started from the dataset page either
        open_page(page, service, f"#/datasets/{DATASET}", "dataset")
        assert page.get_by_role("button", name="Start job").is_disabled()

    open_page(page, service, REVIEW_ROUTE, "review")
    queue = service.json(f"/v1/datasets/{DATASET}/review-queue", limit=20)["items"]
    ids = queue_ids(page)
    assert ids == [item["id"] for item in queue] and ids
    before = {i: history(service, i) for i in ids[:2]}
    buttons = page.locator("li[data-item] button[data-write]")
    if reports_scope:  # read-only: the write buttons are disabled, with a note
        assert buttons.count() == 3 * len(ids)
        assert all(buttons.nth(i).is_disabled() for i in range(buttons.count()))
        assert page.locator("[data-readonly]").is_visible()
        page.screenshot(path=str(screenshots / "review-read-only.png"), full_page=True)
        buttons.evaluate_all("els => els.forEach(e => { e.disabled = false; })")  # a stale page tries anyway
    refused = service.post(
        f"/v1/datasets/{DATASET}/reviews",
        {"instruction_id": ids[0], "state": "approved", "reviewer": "ui-reviewer"},
    )
    assert refused.status_code == 403 and set(refused.json()) == {"error"}, refused.text
    assert refused.json()["error"]["code"] == "forbidden"
    page.locator(f'li[data-item="{ids[0]}"]').focus()
    page.keyboard.press("a")
    alert = page.locator("[data-review-messages] [role=alert]")
    alert.wait_for()
    assert alert.inner_text() == refused.json()["error"]["message"]
    page.locator(f'li[data-item="{ids[0]}"] button[data-action="reject"]').click()
    alert.wait_for()
    assert alert.inner_text() == refused.json()["error"]["message"]
    assert page.locator(f'li[data-item="{ids[0]}"]').get_attribute("data-state") == "unreviewed"
    page.screenshot(path=str(screenshots / "review-refused.png"), full_page=True)

    assert {i: history(service, i) for i in ids[:2]} == before
    assert [
        item["id"] for item in service.json(f"/v1/datasets/{DATASET}/review-queue", limit=20)["items"]
    ] == ids
