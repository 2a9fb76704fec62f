"""The learning-rate range test (Smith, 2017; fastai's ``lr_find``).

Train for a short while with a learning rate that grows exponentially from ``start`` to
``end``, one minibatch per step (the strategy's own ``train`` on the one Trainer, with the
:class:`LRSweep` callback setting each step's rate), and watch the (smoothed) loss: at first it barely moves,
then falls quickly, then explodes. A good learning rate sits where the loss falls
fastest (the *steepest* descent), or a tenth of the rate at the minimum (*min/10*):
far enough from the explosion. The sweep stops as soon as the smoothed loss exceeds
4x its best value, and the weights are restored afterwards: finding the rate does not
train the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .argcheck import check_choice, check_int, check_positive, infer_num_classes
from .callbacks import Callback
from .config import OPTIMIZERS
from .protocol import build_strategy, get_recipe
from .strategies import FineTuner, StrategyBase
from .training import TrainingDivergedError

SUGGESTION_METHODS = ("steepest", "min10")


@dataclass
class LRFinderResult:
    """The sweep: learning rates, smoothed and raw losses, and the suggested rate."""

    lrs: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggestion: float
    steepest: float
    min_loss_lr: float
    diverged: bool
    method: str = "steepest"
    notes: list[str] = field(default_factory=list)
    slopes: np.ndarray | None = None  # d(smoothed loss) / d(log lr) per step; NaN where not measured

    @property
    def min_over_10(self) -> float:
        return self.min_loss_lr / 10

    def ties_within(self, band: float = 0.25) -> tuple[float, float]:
        """The range of rates tied with the steepest one: ``(lo, hi)``, the contiguous run of
        steps around it whose loss falls at least ``(1 - band)`` times as fast.

        A sweep's "best" rate is one point of a flat region; any rate in this range is as
        good a guess (``band=0.25``: within 25% of the steepest descent).
        """
        if isinstance(band, bool) or not isinstance(band, int | float) or not 0 <= band < 1:
            raise ValueError(f"band must be a number in [0, 1); got {band!r}")
        index = int(np.argmin(np.abs(self.lrs - self.steepest)))
        if self.slopes is None or not np.isfinite(self.slopes[index]) or self.slopes[index] >= 0:
            return (self.steepest, self.steepest)
        tied = np.isfinite(self.slopes) & (self.slopes <= (1 - band) * self.slopes[index])
        lo = hi = index
        while lo > 0 and tied[lo - 1]:
            lo -= 1
        while hi < len(tied) - 1 and tied[hi + 1]:
            hi += 1
        return (float(self.lrs[lo]), float(self.lrs[hi]))

    def plot(self, ax=None):
        """Loss against learning rate (log axis), with the suggestion marked: ``plots.plot_lr_finder``."""
        from .plots import plot_lr_finder

        return plot_lr_finder(self, ax=ax)

    def __repr__(self) -> str:
        state = "diverged" if self.diverged else "reached the end"
        lo, hi = self.ties_within()
        return (f"LRFinderResult({len(self.lrs)} steps from {self.lrs[0]:.2g} to {self.lrs[-1]:.2g}, "
                f"{state}; suggestion {self.suggestion:.3g} ({self.method}), steepest "
                f"{self.steepest:.3g} (tied within 25%: {lo:.3g} to {hi:.3g}), "
                f"min/10 {self.min_over_10:.3g})")


class LRSweep(Callback):
    """The range test as a callback: step ``i`` trains at ``lrs[i]``; stops at the end or on divergence.

    It records the raw minibatch losses and their bias-corrected exponential moving average,
    and stops the run when the smoothed loss exceeds ``divergence_factor`` times its best.
    """

    def __init__(self, lrs: np.ndarray, smoothing: float = 0.98, divergence_factor: float = 4.0) -> None:
        self.lrs = np.asarray(lrs, dtype=np.float64)
        self.smoothing, self.divergence_factor = smoothing, divergence_factor
        self.raw: list[float] = []
        self.smoothed: list[float] = []
        self.diverged = False
        self._average, self._best = 0.0, math.inf

    def on_batch_begin(self, trainer, batch: int) -> None:
        trainer.optimizer.lr = float(self.lrs[len(self.raw)])

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None:
        loss = float(logs["loss"])
        step = len(self.raw)
        self._average = self.smoothing * self._average + (1 - self.smoothing) * loss
        value = self._average / (1 - self.smoothing ** (step + 1))
        self.raw.append(loss)
        self.smoothed.append(value)
        if value > self.divergence_factor * self._best:
            self.diverged = True
        self._best = min(self._best, value)
        if self.diverged or len(self.raw) == len(self.lrs):
            trainer.stop_training = True


def _as_strategy(model_or_strategy, y):
    if isinstance(model_or_strategy, StrategyBase):
        return model_or_strategy
    if hasattr(model_or_strategy, "network") and hasattr(model_or_strategy, "get_layer_names"):
        # A bare model: the fine-tuning recipe on a copy of it, with its currently unfrozen
        # blocks and a new head.
        model = model_or_strategy
        unfrozen = [name for name in model.get_layer_names() if not model.is_frozen(name)]
        num_classes = infer_num_classes(y)  # labels checked: an absurd label is named as y's
        recipe = get_recipe("fine_tuning")
        recipe = recipe.replace(strategy_kwargs={**recipe.strategy_kwargs, "layers_to_unfreeze": unfrozen})
        return build_strategy(recipe, model, num_classes)
    raise TypeError(
        "model_or_strategy must be a PretrainedModel or a strategy (FeatureExtractor, FineTuner, "
        f"FromScratch); got {type(model_or_strategy).__name__}"
    )


def lr_find(
    model_or_strategy,
    X,
    y,
    start: float = 1e-6,
    end: float = 1.0,
    steps: int = 100,
    batch_size: int = 32,
    optimizer: str = "adam",
    smoothing: float = 0.98,
    divergence_factor: float = 4.0,
    method: str = "steepest",
    seed: int = 0,
) -> LRFinderResult:
    """Sweep the learning rate exponentially from ``start`` to ``end`` and suggest one.

    ``model_or_strategy`` is a strategy (its own ``train`` runs the sweep, with its trainable
    blocks and per-block multipliers; fine-tuning without a warm-up) or a ``PretrainedModel``
    (a copy is fine-tuned with its currently unfrozen blocks and a new head). The weights are
    restored afterwards. ``method`` picks the suggestion: ``"steepest"`` (steepest descent of
    the smoothed loss) or ``"min10"``.
    """
    start = check_positive(start, "start")
    end = check_positive(end, "end")
    if end <= start:
        raise ValueError(f"end must be > start ({start:g}); got {end:g}")
    steps = check_int(steps, "steps", 5)
    batch_size = check_int(batch_size, "batch_size", 1)
    check_choice(method, "method", SUGGESTION_METHODS)
    check_choice(optimizer, "optimizer", OPTIMIZERS)
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1); got {smoothing!r}")
    divergence_factor = check_positive(divergence_factor, "divergence_factor")
    strategy = _as_strategy(model_or_strategy, y)
    n = len(strategy.base.to_network_input(X, "X")[0])

    lrs = start * (end / start) ** (np.arange(steps) / (steps - 1))
    sweep = LRSweep(lrs, smoothing, divergence_factor)
    config = {"epochs": math.ceil(steps / math.ceil(n / batch_size)), "learning_rate": start,
              "batch_size": batch_size, "seed": seed, "optimizer": optimizer, "callbacks": [sweep]}
    if isinstance(strategy, FineTuner):
        config["warmup_epochs"] = 0
    network = strategy.network
    saved, history = network.state_dict(), strategy.history
    try:
        strategy.train(X, y, config)
    except TrainingDivergedError:  # a NaN or exploding loss: the sweep ends there
        sweep.diverged = True
    finally:
        network.load_state_dict(saved)
        strategy.history = history
    count = len(sweep.smoothed)
    return _result(lrs[:count], np.array(sweep.smoothed), np.array(sweep.raw), sweep.diverged, method)


def _result(lrs, losses, raw, diverged, method) -> LRFinderResult:
    notes = []
    if len(losses) == 0:
        raise RuntimeError("the learning-rate sweep diverged at its first step; lower `start`")
    # Judge the curve up to its last sane point (not the explosion that stopped it).
    usable = len(losses) - 1 if diverged and len(losses) > 2 else len(losses)
    lo = min(max(usable // 10, 1), max(usable - 2, 0))
    min_index = int(np.argmin(losses[:usable]))
    slopes = np.full(len(losses), np.nan)
    if usable - lo >= 3:
        slopes[lo:usable] = np.gradient(losses[lo:usable], np.log(lrs[lo:usable]))
        steep_index = lo + int(np.argmin(slopes[lo:usable]))
    else:
        steep_index = min_index
        notes.append("too few steps before divergence to measure a slope; used the minimum")
    steepest, min_lr = float(lrs[steep_index]), float(lrs[min_index])
    suggestion = steepest if method == "steepest" else min_lr / 10
    return LRFinderResult(lrs=np.asarray(lrs, dtype=np.float64), losses=losses, raw_losses=raw,
                          suggestion=suggestion, steepest=steepest, min_loss_lr=min_lr,
                          diverged=diverged, method=method, notes=notes, slopes=slopes)
