"""The rule judged by regret with a tie band, not by 'did it pick the exact winner'."""

from __future__ import annotations

import pytest

from tlkit.protocol import judge_choice, judge_rule


def test_a_tiny_lead_is_a_tie_not_a_loss():
    scores = {"feature_extraction": 0.801, "fine_tuning": 0.798, "from_scratch": 0.60}
    verdict = judge_choice(scores, "fine_tuning", band=0.01)
    assert verdict.best == "feature_extraction"
    assert verdict.regret == pytest.approx(0.003)
    assert verdict.within_band and verdict.ties == ("feature_extraction", "fine_tuning")
    assert str(verdict).startswith("PASS: chose fine_tuning, best feature_extraction; regret 0.3 points")
    strict = judge_choice(scores, "fine_tuning", band=0.001)
    assert not strict.within_band and str(strict).startswith("FAIL")


def test_judge_rule_uses_the_course_rule():
    scores = {"feature_extraction": 0.90, "fine_tuning": 0.70, "from_scratch": 0.50}
    small_similar = judge_rule(scores, 100, "high")  # the rule says feature extraction
    assert small_similar.chosen == "feature_extraction" and small_similar.regret == 0.0
    large_different = judge_rule(scores, 50_000, "low")  # the rule says from scratch
    assert large_different.chosen == "from_scratch"
    assert large_different.regret == pytest.approx(0.40) and not large_different.within_band
    with pytest.raises(ValueError, match="chosen must be one of"):
        judge_rule({"fine_tuning": 0.5}, 100, "high")
