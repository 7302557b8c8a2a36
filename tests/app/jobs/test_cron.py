from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.jobs.cron import check_cron, check_zone, latest_fire_at_or_before, next_fire_after


def test_ticks_follow_the_zone_across_daylight_saving_time():
    # 02:30 does not exist in Paris on 2026-03-29 (clocks jump 02:00 -> 03:00)
    before_jump = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert next_fire_after("30 2 * * *", "Europe/Paris", before_jump) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert next_fire_after("0 9 * * *", "Europe/Paris", summer) == datetime(2026, 7, 2, 7, 0, tzinfo=UTC)
    assert next_fire_after("0 9 * * *", "UTC", summer) == datetime(2026, 7, 2, 9, 0, tzinfo=UTC)


def test_latest_tick_at_or_before_a_moment():
    on_tick = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert latest_fire_at_or_before("0 * * * *", "UTC", on_tick) == on_tick
    assert latest_fire_at_or_before("0 * * * *", "UTC", on_tick.replace(minute=59)) == on_tick
    seconds = datetime(2026, 1, 1, 10, 0, 7, 500, tzinfo=UTC)
    assert latest_fire_at_or_before("* * * * * */5", "UTC", seconds) == seconds.replace(
        second=5, microsecond=0
    )
    naive_means_utc = datetime(2026, 1, 1, 10, 30)
    assert latest_fire_at_or_before("0 * * * *", "UTC", naive_means_utc) == on_tick


@pytest.mark.parametrize(
    ("expression", "message"),
    [("* * * *", "has 4 fields"), ("61 * * * *", "invalid cron"), ("* * * * * * * *", "has 8 fields")],
)
def test_bad_expressions_say_what_is_wrong(expression, message):
    with pytest.raises(ValueError, match=message):
        check_cron(expression)


def test_expressions_and_zones_that_are_accepted():
    assert check_cron("  */15   9-17 * * 1-5 ") == "*/15 9-17 * * 1-5"
    assert check_cron("@daily") == "@daily"
    assert check_zone("America/New_York") == "America/New_York"
    with pytest.raises(ValueError, match="unknown time zone"):
        check_zone("Nowhere/Special")
