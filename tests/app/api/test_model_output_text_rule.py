"""Model output under the text rule (app/core/limits.py): NUL, control characters and lone surrogates in a
completion are normalised before it is parsed, decided or stored, on SQLite and on PostgreSQL alike, and
the ledger row says so."""

from __future__ import annotations

import pytest

from app.core.limits import clean_model_output, clean_model_text
from generators.backends.base import Completion, GenerationResult
from generators.backends.fake import FakeBackend
from tests.app.helpers import all_instructions, start_job, wait_for_job

DIRTY = (
    " Describe the water\x00 cycle to a curious child.\n"
    "10. Explain why the sky\ud800 looks blue to a ten-year-old.\n"
    "11. Suggest\x07 a name for a bakery that sells sourdough bread."
)
CLEAN = (
    " List three uses of a paperclip that are not about holding paper.\n10. Plan a picnic for six friends."
)


@pytest.mark.both_databases
async def test_nul_and_a_lone_surrogate_in_a_completion_are_cleaned_and_noted(client_for):
    async with client_for(backend=FakeBackend(script=[DIRTY, CLEAN])) as client:
        job = await wait_for_job(client, await start_job(client, target=5))
        assert job["status"] == "succeeded", job["error"]
        accepted = {i["instruction"] for i in await all_instructions(client, origin="generated")}
        ledger = (await client.get(f"/v1/jobs/{job['id']}/generations")).json()
    assert {
        "Describe the water cycle to a curious child.",
        "Explain why the sky\ufffd looks blue to a ten-year-old.",
        "Suggest a name for a bakery that sells sourdough bread.",
    } <= accepted
    dirty = [row for row in ledger if row["sample_index"] == 0]
    clean = [row for row in ledger if row["sample_index"] == 1]
    assert dirty and all(row["params"]["text_cleaned"] == 3 for row in dirty)
    assert all("\x00" not in row["completion"] and "\ud800" not in row["completion"] for row in dirty)
    assert clean and all("text_cleaned" not in row["params"] for row in clean)


def test_the_rule_for_model_text():
    assert clean_model_text("a\x00b\x1fc\x7fd\ud800e\udfff\tf\ng\r") == ("abcd\ufffde\ufffd\tf\ng\r", 5)
    assert clean_model_text("plain — text ✓") == ("plain — text ✓", 0)


def test_a_clean_result_is_left_as_it_is():
    result = GenerationResult("p", [Completion("fine", "stop", 1)], 1, "m", 0.0)
    assert clean_model_output(result) is result
    dirty = GenerationResult(
        "p", [Completion("ok", "stop", 1), Completion("b\x00ad", "length", 2)], 1, "m", 0.0
    )
    cleaned = clean_model_output(dirty)
    assert [c.text for c in cleaned.completions] == ["ok", "bad"]
    assert cleaned.completions[1].finish_reason == "length" and cleaned.extra["text_cleaned"] == [0, 1]
