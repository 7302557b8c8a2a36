"""Cohen's κ and accuracy from the confusion table (pure arithmetic)."""

from __future__ import annotations

import pytest

from app.review.agreement import accuracy_and_kappa, confusion_table


def test_kappa_of_a_known_table():
    # judge (accept, reviewer accept) pairs: 20 agree-accept, 5 judge-only, 10 reviewer-only, 15 agree-reject
    pairs = [(True, True)] * 20 + [(True, False)] * 5 + [(False, True)] * 10 + [(False, False)] * 15
    table = confusion_table(pairs)
    assert table == {"accept": {"accept": 20, "reject": 5}, "reject": {"accept": 10, "reject": 15}}
    accuracy, kappa = accuracy_and_kappa(table)
    assert accuracy == pytest.approx(0.7)
    assert kappa == pytest.approx((0.7 - 0.5) / 0.5)  # p_e = .5·.6 + .5·.4


def test_kappa_is_undefined_when_both_always_say_the_same_thing_and_none_without_items():
    assert accuracy_and_kappa(confusion_table([(True, True)] * 4)) == (1.0, None)
    assert accuracy_and_kappa(confusion_table([])) == (None, None)
    perfect = confusion_table([(True, True), (False, False)])
    assert accuracy_and_kappa(perfect) == (1.0, 1.0)
