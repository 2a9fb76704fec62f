"""Training curves: loss and accuracy per epoch, training and validation, one or several runs."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.ticker import MaxNLocator

from ._axes import get_axes, strategy_color, strategy_label

CURVE_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
TRAIN_COLOR, VALIDATION_COLOR = "tab:blue", "tab:orange"


def _every(n: int) -> int:
    """Mark about 10 points of a curve, whatever its length."""
    return max(1, int(np.ceil(n / 10)))


def _curves(history) -> dict[str, list[float]]:
    """The four curves of a TrainingHistory, a result with ``.history``, or a dict with a "loss" key."""
    if hasattr(history, "history") and not hasattr(history, "loss"):
        history = history.history
    if isinstance(history, Mapping):
        if "loss" not in history:
            raise ValueError(f"a history dict needs a 'loss' key; got keys {sorted(history)}")
        return {k: [float(v) for v in history.get(k, []) or []] for k in CURVE_KEYS}
    if not hasattr(history, "loss"):
        raise TypeError(
            "history must be a TrainingHistory, an object with .history, a dict with 'loss', "
            f"or a dict of those; got {type(history).__name__}"
        )
    return {k: [float(v) for v in getattr(history, k, []) or []] for k in CURVE_KEYS}


def as_history_dict(history_or_histories) -> dict[str, dict[str, list[float]]]:
    """Normalise one history or several into ``{run name: {curve: values}}``."""
    obj = history_or_histories
    if hasattr(obj, "results") and isinstance(obj.results, Mapping):  # a StrategyComparison
        obj = obj.results
    if isinstance(obj, Mapping) and "loss" not in obj:
        if not obj:
            raise ValueError("history_or_histories is an empty dict; give at least one history")
        return {str(name): _curves(h) for name, h in obj.items()}
    return {"": _curves(obj)}


def plot_history(history_or_histories, ax=None, title: str | None = None):
    """Loss (left) and accuracy (right) per epoch: training solid, validation dashed (and,
    for one run, in another colour), about ten markers per curve.

    Takes a :class:`~tlkit.history.TrainingHistory`, a dict of them ``{"name": history}``
    (one colour per run), a strategy comparison, or a dict with ``loss``/``accuracy`` lists.
    ``ax``: two Axes to draw on (default: a new figure). Returns the two Axes.
    """
    runs = as_history_dict(history_or_histories)
    loss_ax, acc_ax = get_axes(ax, 2, figsize=(9.5, 3.4))
    longest = 1
    for index, (name, curves) in enumerate(runs.items()):
        # one run: training and validation in two colours; several: one colour per run,
        # validation dashed with hollow markers
        color = strategy_color(name, index) if name else TRAIN_COLOR
        val_color = color if name else VALIDATION_COLOR
        label = strategy_label(name) if name else ""
        for axis, key in ((loss_ax, "loss"), (acc_ax, "accuracy")):
            train, val = curves[key], curves["val_" + key]
            longest = max(longest, len(train), len(val))
            if train:
                axis.plot(np.arange(1, len(train) + 1), train, color=color, marker="o", markersize=4,
                          markevery=_every(len(train)), linewidth=1.8,
                          label=(f"{label} train" if label else "train"))
            if val:
                axis.plot(np.arange(1, len(val) + 1), val, color=val_color, linestyle="--", marker="s",
                          markersize=4, markevery=_every(len(val)), markerfacecolor="white", linewidth=1.8,
                          label=(f"{label} validation" if label else "validation"))
    loss_ax.set_ylabel("cross-entropy loss")
    acc_ax.set_ylabel("accuracy")
    acc_ax.set_ylim(-0.02, 1.02)
    for axis, name in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        axis.set_xlabel("epoch")
        axis.set_title(name if title is None else f"{title}: {name}")
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=8)
        axis.set_xlim(0.5, longest + 0.5)  # one epoch: a tick at 1, not 0.96 ... 1.04
        axis.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    return np.array([loss_ax, acc_ax], dtype=object)
