"""Discriminative learning rates: a learning-rate multiplier per block.

Early blocks hold generic features (strokes, edges) that only need a nudge; the top
blocks and the new head hold task-specific ones that must move a lot. So lower blocks
get smaller learning rates. The update of a block is ``w <- w - lr * multiplier * grad``.

Three recipes, over the blocks being fine-tuned (the *unfrozen* ones, bottom to top):

* ``"decay"`` (the course's default): the lowest third of the unfrozen blocks gets
  0.01, the rest 0.1, and the top block and the head 1.0;
* ``"geometric"`` (fastai's ``slice(lo, hi)``): absolute rates spaced geometrically from
  ``lo`` at the lowest unfrozen block to ``hi`` at the head (default ``lo = lr / 100``,
  ``hi = lr``);
* ``"ulmfit"`` (Howard & Ruder, 2018): each block 2.6 times lower than the one above it,
  the head at 1.0;
* ``"none"``: every block at 1.0.
"""

from __future__ import annotations

from ..argcheck import check_choice, check_positive
from ..config import DISCRIMINATIVE

ULMFIT_FACTOR = 2.6
DECAY_EARLY, DECAY_MIDDLE, DECAY_TOP = 0.01, 0.1, 1.0


def decay_multipliers(unfrozen: list[str]) -> dict[str, float]:
    """0.01 for the lowest third of ``unfrozen``, 0.1 above it, 1.0 for the top block."""
    k = len(unfrozen)
    multipliers = {}
    for index, name in enumerate(unfrozen):
        if index == k - 1:
            multipliers[name] = DECAY_TOP
        elif index < k / 3:
            multipliers[name] = DECAY_EARLY
        else:
            multipliers[name] = DECAY_MIDDLE
    return multipliers


def geometric_rates(unfrozen: list[str], lo: float, hi: float, head: str = "head") -> dict[str, float]:
    """Absolute rates from ``lo`` (lowest unfrozen block) to ``hi`` (the head), evenly in log."""
    names = list(unfrozen) + [head]
    k = len(names) - 1
    if k == 0:
        return {head: hi}
    return {name: lo * (hi / lo) ** (index / k) for index, name in enumerate(names)}


def ulmfit_multipliers(unfrozen: list[str], factor: float = ULMFIT_FACTOR) -> dict[str, float]:
    """The block just below the head gets 1/2.6, the next 1/2.6**2, and so on."""
    k = len(unfrozen)
    return {name: factor ** -(k - index) for index, name in enumerate(unfrozen)}


def discriminative_multipliers(
    unfrozen: list[str],
    method: str = "decay",
    learning_rate: float = 1.0,
    lr_range: tuple[float, float] | None = None,
    overrides: dict[str, float] | None = None,
    head: str = "head",
) -> dict[str, float]:
    """Multipliers of the base ``learning_rate`` for the unfrozen blocks and the head.

    ``overrides`` maps block names to absolute learning rates (from
    ``FineTuner.set_layer_learning_rate``); they win over the recipe.
    """
    check_choice(method, "discriminative", DISCRIMINATIVE)
    learning_rate = check_positive(learning_rate, "learning_rate")
    unfrozen = list(unfrozen)
    if method == "decay":
        multipliers = {**decay_multipliers(unfrozen), head: DECAY_TOP}
    elif method == "geometric":
        lo, hi = lr_range if lr_range is not None else (learning_rate / 100, learning_rate)
        rates = geometric_rates(unfrozen, check_positive(lo, "lr_range[0]"),
                                check_positive(hi, "lr_range[1]"), head)
        multipliers = {name: rate / learning_rate for name, rate in rates.items()}
    elif method == "ulmfit":
        multipliers = {**ulmfit_multipliers(unfrozen), head: 1.0}
    else:
        multipliers = {name: 1.0 for name in unfrozen + [head]}
    for name, rate in (overrides or {}).items():
        multipliers[name] = rate / learning_rate
    return multipliers
