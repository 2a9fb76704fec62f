"""The learning-rate range test (Smith, 2017; fastai's ``lr_find``).

Train for a short while with a learning rate that grows exponentially from ``start`` to
``end``, one minibatch per step, and watch the (smoothed) loss: at first it barely moves,
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

from .config import TrainingConfig
from .nn.losses import softmax_cross_entropy
from .training import make_optimizer
from .validation import as_labels, check_choice, check_int, check_positive

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

    @property
    def min_over_10(self) -> float:
        return self.min_loss_lr / 10

    def plot(self, ax=None):
        """Loss against learning rate (log axis), with the suggestion marked: ``plots.plot_lr_finder``."""
        from .plots import plot_lr_finder

        return plot_lr_finder(self, ax=ax)

    def __repr__(self) -> str:
        state = "diverged" if self.diverged else "reached the end"
        return (f"LRFinderResult({len(self.lrs)} steps from {self.lrs[0]:.2g} to {self.lrs[-1]:.2g}, "
                f"{state}; suggestion {self.suggestion:.3g} ({self.method}), steepest "
                f"{self.steepest:.3g}, min/10 {self.min_over_10:.3g})")


def _as_strategy(model_or_strategy, y):
    from .strategies import FineTuner, StrategyBase

    if isinstance(model_or_strategy, StrategyBase):
        return model_or_strategy
    if hasattr(model_or_strategy, "network") and hasattr(model_or_strategy, "get_layer_names"):
        # A bare model: fine-tune (a copy of) it as it stands, its unfrozen blocks and a new head.
        model = model_or_strategy.copy()
        unfrozen = [name for name in model.get_layer_names() if not model.is_frozen(name)]
        labels = np.asarray(y).reshape(-1)
        num_classes = max(2, int(labels.max()) + 1) if labels.size else 2
        return FineTuner(model, num_classes, layers_to_unfreeze=unfrozen)
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

    ``model_or_strategy`` is a strategy (its trainable blocks and per-block multipliers are
    swept, as ``train`` would use them) or a ``PretrainedModel`` (a copy is fine-tuned
    with its currently unfrozen blocks and a new head). ``method`` picks the suggestion:
    ``"steepest"`` (steepest descent of the smoothed loss) or ``"min10"``.
    """
    start = check_positive(start, "start")
    end = check_positive(end, "end")
    if end <= start:
        raise ValueError(f"end must be > start ({start:g}); got {end:g}")
    steps = check_int(steps, "steps", 5)
    check_choice(method, "method", SUGGESTION_METHODS)
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1); got {smoothing!r}")
    divergence_factor = check_positive(divergence_factor, "divergence_factor")
    strategy = _as_strategy(model_or_strategy, y)
    config = strategy._config({"learning_rate": start, "batch_size": batch_size, "seed": seed,
                               "optimizer": optimizer})
    batch, _ = strategy._inputs(X, "X")
    labels = as_labels(y, len(batch), strategy.num_classes)

    network, inputs, multipliers, context = strategy._training_setup(batch, config)
    saved = network.state_dict()
    opt = make_optimizer(TrainingConfig(learning_rate=start, optimizer=optimizer))
    rng = np.random.default_rng(seed)
    lrs = start * (end / start) ** (np.arange(steps) / (steps - 1))
    raw, smoothed, average, best, diverged = [], [], 0.0, math.inf, False
    order = rng.permutation(len(inputs))
    position = 0
    try:
        with context, np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for step, lr in enumerate(lrs):
                if position + batch_size > len(order) and position > 0:
                    order, position = rng.permutation(len(inputs)), 0
                idx = order[position:position + batch_size]
                position += batch_size
                logits = network.forward(inputs[idx], training=True)
                loss, grad = softmax_cross_entropy(logits, labels[idx])
                if not math.isfinite(loss):
                    diverged = True
                    break
                average = smoothing * average + (1 - smoothing) * loss
                value = average / (1 - smoothing ** (step + 1))
                raw.append(float(loss))
                smoothed.append(float(value))
                if value > divergence_factor * best:
                    diverged = True
                    break
                best = min(best, value)
                network.backward(grad)
                opt.lr = float(lr)
                opt.step(network.param_groups(multipliers))
    finally:
        network.load_state_dict(saved)
    return _result(lrs[:len(smoothed)], np.array(smoothed), np.array(raw), diverged, method)


def _result(lrs, losses, raw, diverged, method) -> LRFinderResult:
    notes = []
    if len(losses) == 0:
        raise RuntimeError("the learning-rate sweep diverged at its first step; lower `start`")
    # Judge the curve up to its last sane point (not the explosion that stopped it).
    usable = len(losses) - 1 if diverged and len(losses) > 2 else len(losses)
    lo = min(max(usable // 10, 1), max(usable - 2, 0))
    min_index = int(np.argmin(losses[:usable]))
    if usable - lo >= 3:
        slopes = np.gradient(losses[lo:usable], np.log(lrs[lo:usable]))
        steep_index = lo + int(np.argmin(slopes))
    else:
        steep_index = min_index
        notes.append("too few steps before divergence to measure a slope; used the minimum")
    steepest, min_lr = float(lrs[steep_index]), float(lrs[min_index])
    suggestion = steepest if method == "steepest" else min_lr / 10
    return LRFinderResult(lrs=np.asarray(lrs, dtype=np.float64), losses=losses, raw_losses=raw,
                          suggestion=suggestion, steepest=steepest, min_loss_lr=min_lr,
                          diverged=diverged, method=method, notes=notes)
