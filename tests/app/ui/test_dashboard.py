"""The dashboard in a real browser against a real service: the datasets page, a job started from the page
and followed live to done, the dataset page's plots holding exactly the numbers the API reports, and
browsing and searching instructions. Endpoints that come with a later API ("not available" here) are
checked strictly as soon as the server has the route."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.app.ui.conftest import (
    DATASET,
    Service,
    bars,
    drawn,
    generated_candidates,
    missing_route,
    open_page,
    points,
    table_rows,
)

pytestmark = pytest.mark.browser


def count(n: int) -> str:
    return f"{n:,}"


def test_start_a_job_from_the_dashboard_and_follow_it_live_to_done(page: Any, service: Service, screenshots):
    open_page(page, service, "#/", "datasets")
    listed = {d["name"]: d for d in service.json("/v1/datasets")}
    row = page.locator(f'tr[data-dataset="{DATASET}"]')
    for key in ("seed", "accepted", "rejected"):
        assert row.locator(f'[data-count="{key}"]').inner_text() == count(listed[DATASET][f"{key}_count"])
    assert page.locator("tr[data-dataset]").count() == len(listed)
    row.get_by_text("Scores and reviews").press("Enter")  # a <details>: opened from the keyboard
    summary = row.locator(f'[data-summary="{DATASET}"]')
    summary.get_by_text("judge mean").wait_for()
    judge = service.json(f"/v1/datasets/{DATASET}/stats")["scores"]["instructions"]["judge_score"]
    assert f"({count(judge['count'])} scored)" in summary.inner_text()
    page.screenshot(path=str(screenshots / "datasets.png"), full_page=True)

    row.get_by_role("link", name=DATASET).click()
    drawn(page, "dataset")
    page.get_by_label("Target (accepted instructions)").fill("60")
    page.get_by_label("Strategy", exact=True).select_option("self_instruct")
    page.get_by_label("Target (accepted instructions)").press("Enter")  # submits the form
    page.wait_for_function("() => /^#\\/jobs\\/\\d+$/.test(location.hash)")
    job_id = int(re.findall(r"\d+", page.evaluate("location.hash"))[0])
    drawn(page, "job")
    job_page = page.locator(f'[data-job-page="{job_id}"]')
    job_page.and_(page.locator("[data-done=true]")).wait_for(timeout=60_000)

    job = service.json(f"/v1/jobs/{job_id}")
    assert job["status"] == "succeeded" and job["accepted"] == 60
    assert job_page.get_attribute("data-status") == "succeeded"
    assert int(job_page.get_attribute("data-events") or 0) >= 2  # progress events, then end, from the stream
    seen = [event.split(":") for event in (job_page.get_attribute("data-seen") or "").split()]
    accepted_seen = [int(accepted) for _, accepted in seen]
    assert accepted_seen == sorted(accepted_seen) and seen[-1] == ["succeeded", "60"], seen
    cards = {
        key: page.locator(f'[data-card="{key}"]').inner_text()
        for key in ("accepted", "rejected", "generated")
    }
    assert cards == {key: count(job[key]) for key in ("accepted", "rejected", "generated")}
    assert page.locator('[data-card="tokens-per-accepted"]').inner_text() == f"{job['tokens_per_accepted']:g}"
    if "in_flight" in job:
        assert page.locator('[data-card="in-flight"]').inner_text() == count(job["in_flight"])
    else:
        assert page.locator('[data-card="in-flight"]').inner_text() == "not available"
    decisions = {k: v for k, v in job["counts"]["decisions"].items() if k != "accepted"}
    decisions |= {f"parse:{k}": v for k, v in job["counts"]["parse_dropped"].items()}
    assert [(label, value) for _, label, value in bars(page, "job-rejections")] == list(decisions.items())
    curve = job["novelty_curve"] or []
    assert [y for _, _, y in points(page, "job-novelty")] == curve

    timeline = service.get(f"/v1/jobs/{job_id}/timeline", window=20)
    if missing_route(timeline):
        assert page.locator('[data-unavailable="Yield curve and rejections over time"]').is_visible()
    else:
        assert timeline.status_code == 200, timeline.text
        windows = timeline.json()["windows"]
        assert sum(w["accepted"] for w in windows) == job["accepted"]
        assert points(page, "yield") == [("accepted", w["index"], w["accepted"]) for w in windows] + [
            ("decided", w["index"], w["decided"]) for w in windows
        ]
        rules = list(dict.fromkeys(rule for w in windows for rule in w["rejections"]))
        expected = [(rule, w["index"], w["rejections"].get(rule, 0)) for rule in rules for w in windows]
        assert points(page, "rejections-over-time") == expected
    page.screenshot(path=str(screenshots / "job.png"), full_page=True)


def histogram_bars(page: Any, chart: str) -> list[float]:
    return [value for _, _, value in bars(page, chart)]


def test_dataset_page_plots_the_numbers_the_api_reports(page: Any, service: Service, screenshots):
    generated_candidates(service)
    open_page(page, service, f"#/datasets/{DATASET}", "dataset")
    dataset = service.json(f"/v1/datasets/{DATASET}")
    stats = service.json(f"/v1/datasets/{DATASET}/stats")
    for key in ("seed", "accepted", "rejected"):
        assert page.locator(f'[data-card="{key}"]').inner_text() == count(dataset[f"{key}_count"])

    assert stats["rejections"], "the job rejected nothing: nothing to plot"
    assert [(label, value) for _, label, value in bars(page, "rejections")] == [
        (str(rule), n) for rule, n in stats["rejections"].items()
    ]
    assert table_rows(page, "rejections") == len(stats["rejections"])
    for key in ("relevance", "judge_score", "judge_expected"):
        histogram = stats["scores"]["instructions"][key]
        assert histogram_bars(page, f"score-{key}") == histogram["counts"], key
        figure = page.locator(f'figure[data-chart="score-{key}"]')
        assert int(figure.get_attribute("data-count") or -1) == histogram["count"]
        assert int(figure.get_attribute("data-missing") or -1) == histogram["missing"]
    assert stats["scores"]["instructions"]["judge_score"]["count"] > 0  # the judge ran
    assert stats["scores"]["instructions"]["relevance"]["count"] > 0  # the domain was scored
    window = stats["novelty_window"]
    assert points(page, "novelty") == [
        ("share accepted", (i + 1) * window, y) for i, y in enumerate(stats["novelty_curve"])
    ]

    instructions = stats["scores"]["instructions"]
    if "max_cosine" in instructions or "max_rouge_l" in instructions:
        split = stats["scores"].get("neighbours") or instructions.get("neighbours")
        for key in ("max_cosine", "max_rouge_l"):
            assert histogram_bars(page, f"nn-{key}") == instructions[key]["counts"], key
            if split:
                drawn_split = bars(page, f"nn-{key}-split")
                for decision in ("accepted", "rejected"):
                    values = [v for series, _, v in drawn_split if series == decision]
                    assert values == split[decision][key]["counts"], (key, decision)
    else:
        assert page.locator('[data-unavailable="Nearest-neighbour similarity"]').is_visible()
    if "strategies" in stats:
        names = list(stats["strategies"])
        drawn_strategies = bars(page, "strategies")
        for decision in ("accepted", "rejected"):
            values = [v for series, _, v in drawn_strategies if series == decision]
            assert values == [stats["strategies"][s].get(decision, 0) for s in names], decision
        keyed = sum(len(values) for s in names for values in stats["strategies"][s].get("by", {}).values())
        assert page.locator('table[data-table="lineage"] tbody tr').count() == keyed
    else:
        assert page.locator('[data-unavailable="Strategy and lineage breakdown"]').is_visible()

    agreement = service.json(f"/v1/datasets/{DATASET}/agreement")
    assert page.locator('[data-card="agreement-items"]').inner_text() == count(agreement["items"])
    for judge, row in agreement["confusion"].items():
        for reviewer, n in row.items():
            cell = page.locator(
                f'[data-table="confusion"] td[data-judge="{judge}"][data-reviewer="{reviewer}"]'
            )
            assert cell.inner_text() == count(n)
    jobs = service.json("/v1/jobs", dataset=DATASET)
    assert page.locator('table[data-table="jobs"] tbody tr').count() == len(jobs)
    page.screenshot(path=str(screenshots / "dataset.png"), full_page=True)


def test_browse_and_search_instructions(page: Any, service: Service, screenshots):
    generated_candidates(service)
    route = f"#/datasets/{DATASET}/instructions?accepted=all&origin=generated"
    open_page(page, service, route, "browse")
    listed = service.json(
        f"/v1/datasets/{DATASET}/instructions", decision="all", origin="generated", limit=50
    )
    shown = page.eval_on_selector_all("li[data-row]", "els => els.map(e => Number(e.dataset.row))")
    assert shown == [row["id"] for row in listed["items"]]
    rejected = next(row for row in listed["items"] if not row["accepted"])
    rejected_row = page.locator(f'li[data-row="{rejected["id"]}"]')
    assert f"rejected: {rejected['rule']}" in rejected_row.inner_text()
    assert rejected_row.get_attribute("data-rule") == rejected["rule"]
    page.screenshot(path=str(screenshots / "browse.png"), full_page=True)

    search = page.get_by_label("Search similar instructions")
    search.fill("write a persuasive essay")
    search.press("Enter")
    page.wait_for_function("() => location.hash.includes('q=')")
    drawn(page, "browse")
    similar = service.json(f"/v1/datasets/{DATASET}/similar", q="write a persuasive essay", k=20)
    shown = page.eval_on_selector_all(
        "ol[data-results=similar] > li[data-row]", "els => els.map(e => Number(e.dataset.row))"
    )
    assert shown == [item["id"] for item in similar["items"]] and shown
    scores = page.eval_on_selector_all(
        "ol[data-results=similar] > li[data-row]", "els => els.map(e => Number(e.dataset.score))"
    )
    assert scores == [item["score"] for item in similar["items"]]

    first = similar["items"][0]["id"]
    page.locator(f'li[data-row="{first}"] button[data-open="{first}"]').first.click()
    opened = service.get(f"/v1/datasets/{DATASET}/instructions/{first}")
    row = page.locator(f'li[data-row="{first}"] .neighbour')
    if missing_route(opened):
        row.get_by_text("not available").wait_for()
    else:
        assert opened.status_code == 200, opened.text
        nested = row.locator(f'li[data-row="{first}"]')
        nested.wait_for()
        assert nested.get_attribute("data-accepted") == str(opened.json()["accepted"]).lower()
    page.screenshot(path=str(screenshots / "search.png"), full_page=True)
