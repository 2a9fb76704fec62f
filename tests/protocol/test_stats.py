"""Paired differences, their interval, ties and regret: hand-computed cases and scipy as a twin."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tlkit.protocol import format_difference, paired_difference, regret, ties_within
from tlkit.protocol.stats import t_quantile_975


def test_hand_computed_paired_difference():
    # b - a = [0.02, 0.04, 0.00, 0.06]: mean 0.03, sd sqrt(((-.01)^2+.01^2+.03^2+.03^2)/3) = sqrt(0.0020/3)
    d = paired_difference([0.50, 0.60, 0.70, 0.80], [0.52, 0.64, 0.70, 0.86])
    assert d.diffs == pytest.approx((0.02, 0.04, 0.0, 0.06))
    assert d.mean == pytest.approx(0.03)
    sd = math.sqrt(0.0020 / 3)
    assert d.sd == pytest.approx(sd)
    half = 3.182 * sd / 2  # t(0.975; 3) = 3.182, sqrt(4) = 2
    assert d.ci95 == pytest.approx((0.03 - half, 0.03 + half))
    assert (d.wins, d.losses, d.n) == (3, 0, 4)


def test_t_table_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    for df in (1, 2, 4, 9, 19, 29, 30, 60, 120):
        assert t_quantile_975(df) == pytest.approx(stats.t.ppf(0.975, df), abs=6e-4)
    # between rows the smaller df is used: never narrower than the exact interval
    for df in (31, 45, 75, 119, 500):
        assert t_quantile_975(df) >= stats.t.ppf(0.975, df) - 1e-9


def test_format_difference():
    d = paired_difference([0.50, 0.60, 0.70, 0.80], [0.52, 0.64, 0.70, 0.86])
    half = 100 * 3.182 * math.sqrt(0.0020 / 3) / 2
    assert format_difference(d) == f"+3.0 points [95% CI {3.0 - half:+.1f}, {3.0 + half:+.1f}], 3/4 seeds"
    one = paired_difference([0.9], [0.8])
    assert math.isnan(one.ci95[0]) and one.sd == 0.0
    assert format_difference(one) == "-10.0 points (one seed: no interval), 0/1 seeds"
    assert format_difference(d, scale=1.0, unit="").startswith("+0.0 ")


def test_paired_difference_bad_input():
    with pytest.raises(ValueError, match="same seeds.*3 and 2"):
        paired_difference([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="a is empty"):
        paired_difference([], [])
    with pytest.raises(ValueError, match="NaN"):
        paired_difference([1, np.nan], [1, 2])
    with pytest.raises(TypeError, match="PairedDifference"):
        format_difference((0.1, 0.2))


def test_ties_within_and_regret():
    scores = {"a": 0.80, "b": 0.795, "c": 0.70, "d": 0.801}
    assert ties_within(scores, 0.005) == ["d", "a"]  # b is 0.006 below the best
    assert ties_within(scores, 0.01) == ["d", "a", "b"]
    assert ties_within(scores, 0.0) == ["d"]
    assert regret(scores, "d") == 0.0
    assert regret(scores, "c") == pytest.approx(0.101)
    with pytest.raises(ValueError, match=r"chosen must be one of \['a', 'b', 'c', 'd'\]; got 'e'"):
        regret(scores, "e")
    with pytest.raises(ValueError, match="band"):
        ties_within(scores, -0.1)
    with pytest.raises(ValueError, match="non-empty"):
        ties_within({}, 0.1)
