"""Bounded admission: beyond ``limit`` running and ``waiting`` queued a request is refused with 429 at
once; one that cannot get a slot in time gets 503; both carry Retry-After; slots are given back."""

from __future__ import annotations

import asyncio

import pytest

from app.api.admission import Admission, Saturated, WaitedTooLong
from tests.conftest import assert_error


async def test_full_admission_refuses_at_once_and_a_long_wait_is_503():
    admission = Admission("/candidates", limit=1, waiting=1, wait_s=5)
    await admission.enter()
    queued = asyncio.create_task(admission.enter())
    await asyncio.sleep(0)
    assert admission.waiting == 1
    with pytest.raises(Saturated) as refused:
        await admission.enter()
    assert refused.value.status == 429 and "Retry-After" in refused.value.headers
    admission.leave()
    await queued  # the waiting request got the slot given back
    assert (admission.running, admission.waiting) == (1, 0)
    impatient = Admission("/similar", limit=1, waiting=5, wait_s=0.01)
    await impatient.enter()
    with pytest.raises(WaitedTooLong) as waited:
        await impatient.enter()
    assert waited.value.status == 503 and impatient.waiting == 0


async def test_saturated_candidates_get_429_in_the_one_shape(client):
    admission = client.app_state.admission["candidates"]
    admission.max_waiting = 0
    for _ in range(admission.limit):
        await admission.enter()
    try:
        body = {"instructions": ["Suggest a name for a bakery that sells bread."]}
        response = await client.post("/v1/datasets/default/candidates", json=body)
        assert_error(response, 429, "saturated", "retry later")
        assert response.headers["retry-after"] == "1"
    finally:
        for _ in range(admission.limit):
            admission.leave()
    assert (await client.post("/v1/datasets/default/candidates", json=body)).status_code == 200
