"""Judging a choice against measurements: regret, and whether it is within a tie band.

A rule (or a student) picks a strategy; the measurements say how each strategy scored.
"Did the rule pick the winner?" is the wrong question when two strategies are 0.1 points
apart on a few seeds: that is a tie. The right one is "how much does the choice lose
against the best (its *regret*), and is that within the band we cannot tell apart?"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..strategy_rule import choose_strategy
from .stats import regret, ties_within


@dataclass(frozen=True)
class RuleVerdict:
    """The chosen strategy, the best measured one, the regret and whether it is within the band."""

    chosen: str
    best: str
    regret: float
    within_band: bool
    ties: tuple[str, ...]
    band: float

    def __str__(self) -> str:
        verdict = "PASS" if self.within_band else "FAIL"
        return (f"{verdict}: chose {self.chosen}, best {self.best}; regret {100 * self.regret:.1f} points "
                f"(band {100 * self.band:.1f}; tied: {', '.join(self.ties)})")


def judge_choice(scores: Mapping[str, float], chosen: str, *, band: float = 0.01) -> RuleVerdict:
    """Regret of ``chosen`` against the best of ``scores`` and whether it is within ``band``."""
    value = regret(scores, chosen)
    ties = ties_within(scores, band)
    best = max(scores, key=lambda key: scores[key])
    return RuleVerdict(chosen=chosen, best=best, regret=value, within_band=chosen in ties,
                       ties=tuple(ties), band=float(band))


def judge_rule(scores: Mapping[str, float], dataset_size: int, task_similarity: str,
               *, band: float = 0.01) -> RuleVerdict:
    """The course rule's choice for ``(dataset_size, task_similarity)`` judged on measured ``scores``.

    ``scores`` maps strategy names (``"feature_extraction"``, ``"fine_tuning"``,
    ``"from_scratch"``) to measured accuracies (fractions); it must include the rule's choice.
    """
    return judge_choice(scores, choose_strategy(dataset_size, task_similarity), band=band)
