"""Paired differences between two arms measured on the same seeds, and ties within a band.

A comparison of two recipes runs both on the same seeds (same split, same initial head,
same minibatch order): the per-seed difference removes what the seed does to both arms,
so a small effect is visible with a handful of seeds. The 95% interval is Student's t
with n - 1 degrees of freedom.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# Two-sided 95% quantiles of Student's t, t(0.975; df); between rows the smaller df is used
# (a slightly wider, conservative interval); beyond 120 degrees of freedom the 120 row
# (1.980, at most 1% wider than the exact value).
_T975: dict[int, float] = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
    9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
    17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064,
    25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000,
    120: 1.980,
}


def t_quantile_975(df: int) -> float:
    """t(0.975; df) from the table (df >= 1), rounded towards a wider interval."""
    if df < 1:
        raise ValueError(f"df must be >= 1; got {df}")
    return _T975[max(d for d in _T975 if d <= df)]


@dataclass(frozen=True)
class PairedDifference:
    """``diffs[i] = b[i] - a[i]`` for seed i; mean, sd, 95% t-interval, wins and losses of b."""

    diffs: tuple[float, ...]
    mean: float
    sd: float
    ci95: tuple[float, float]
    wins: int
    losses: int
    n: int


def _scores(values, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a sequence of numbers (one per seed); got {values!r}") from None
    if arr.size == 0:
        raise ValueError(f"{name} is empty; give one score per seed")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; got {arr.tolist()}")
    return arr


def paired_difference(a: Sequence[float], b: Sequence[float]) -> PairedDifference:
    """Per-seed ``b - a`` (same seeds, same order). One seed: the interval is (nan, nan)."""
    a_arr, b_arr = _scores(a, "a"), _scores(b, "b")
    if a_arr.shape != b_arr.shape:
        raise ValueError(
            f"a and b must hold one score per seed for the same seeds; got {a_arr.size} and {b_arr.size}"
        )
    diffs = b_arr - a_arr
    n = int(diffs.size)
    mean = float(diffs.mean())
    if n >= 2:
        sd = float(diffs.std(ddof=1))
        half = t_quantile_975(n - 1) * sd / math.sqrt(n)
        ci = (mean - half, mean + half)
    else:
        sd, ci = 0.0, (math.nan, math.nan)
    return PairedDifference(
        diffs=tuple(float(d) for d in diffs), mean=mean, sd=sd, ci95=ci,
        wins=int(np.count_nonzero(diffs > 0)), losses=int(np.count_nonzero(diffs < 0)), n=n,
    )


def format_difference(d: PairedDifference, *, scale: float = 100.0, unit: str = "points") -> str:
    """``"+3.2 points [95% CI +1.1, +5.3], 5/5 seeds"`` (wins of b out of the seeds)."""
    if not isinstance(d, PairedDifference):
        raise TypeError(f"d must be a PairedDifference (from paired_difference); got {type(d).__name__}")
    mean = f"{d.mean * scale:+.1f} {unit}"
    if d.n < 2:
        return f"{mean} (one seed: no interval), {d.wins}/{d.n} seeds"
    lo, hi = (v * scale for v in d.ci95)
    return f"{mean} [95% CI {lo:+.1f}, {hi:+.1f}], {d.wins}/{d.n} seeds"


def _check_scores(scores: Mapping[str, float]) -> dict[str, float]:
    if not isinstance(scores, Mapping) or not scores:
        raise ValueError(f"scores must be a non-empty mapping name -> score; got {scores!r}")
    return {key: float(value) for key, value in scores.items()}


def ties_within(scores: Mapping[str, float], band: float) -> list[str]:
    """Every key whose score is within ``band`` of the best (best first, then by score)."""
    values = _check_scores(scores)
    if isinstance(band, bool) or not isinstance(band, int | float) or not band >= 0:
        raise ValueError(f"band must be a number >= 0; got {band!r}")
    best = max(values.values())
    tied = [key for key, value in values.items() if best - value <= band + 1e-12]
    return sorted(tied, key=lambda key: -values[key])


def regret(scores: Mapping[str, float], chosen: str) -> float:
    """How much the ``chosen`` key loses against the best: ``max(scores) - scores[chosen]`` (>= 0)."""
    values = _check_scores(scores)
    if chosen not in values:
        raise ValueError(f"chosen must be one of {list(values)}; got {chosen!r}")
    return max(values.values()) - values[chosen]
