"""Learning rates: each block's rate per epoch, and the learning-rate finder's sweep."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._axes import get_ax


def _rates_of(history) -> dict[str, list[float]]:
    if hasattr(history, "history") and not hasattr(history, "learning_rates"):
        history = history.history  # a strategy after train(), or a comparison result
    rates = history.learning_rates if hasattr(history, "learning_rates") else history
    if not isinstance(rates, Mapping) or not rates:
        raise ValueError(
            "history must be a TrainingHistory with learning_rates (or a dict {block: [rate per epoch]}); "
            f"got {type(history).__name__} with no per-block rates"
        )
    return {str(k): [float(v) for v in values] for k, values in rates.items()}


def plot_lr_per_block(history, ax=None, title: str = "learning rate of each block"):
    """Each block's learning rate per epoch on a log axis.

    A frozen epoch (rate 0) leaves a gap and is marked with an x on the bottom edge, so the
    warm-up (head only) and gradual unfreezing are visible. Returns the Axes.
    """
    rates = _rates_of(history)
    ax = get_ax(ax, figsize=(6.0, 3.4))
    positive = [v for values in rates.values() for v in values if v > 0]
    floor = min(positive) / 3 if positive else 1e-6
    import matplotlib as mpl

    cmap = mpl.colormaps["viridis"]
    names = list(rates)
    for index, name in enumerate(names):
        values = np.asarray(rates[name], dtype=np.float64)
        epochs = np.arange(1, len(values) + 1)
        color = "black" if name == "head" else cmap(index / max(1, len(names) - 1) * 0.9)
        shown = np.where(values > 0, values, np.nan)
        ax.plot(epochs, shown, marker="o", markersize=4, color=color, label=name,
                linewidth=2.5 if name == "head" else 1.5)
        frozen = epochs[values <= 0]
        if len(frozen):
            ax.scatter(frozen, np.full(len(frozen), floor), marker="x", color=color, s=18)
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor / 1.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.set_title(title + "\n(x at the bottom: frozen that epoch)", fontsize=10)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


def plot_lr_finder(result, ax=None, show_raw: bool = True):
    """The learning-rate range test: loss against learning rate (log axis), suggestion marked.

    ``result`` is what ``tlkit.lr_finder.lr_find`` returns (``lrs``, ``losses``,
    ``suggestion``; ``raw_losses``, ``steepest``, ``min_loss_lr`` when present).
    Returns the Axes.
    """
    for attribute in ("lrs", "losses", "suggestion"):
        if not hasattr(result, attribute):
            raise TypeError(f"result must be an LRFinderResult (from lr_find); it has no .{attribute}")
    lrs = np.asarray(result.lrs, dtype=np.float64)
    losses = np.asarray(result.losses, dtype=np.float64)
    ax = get_ax(ax, figsize=(5.5, 3.4))
    raw = getattr(result, "raw_losses", None)
    if show_raw and raw is not None and len(raw) == len(lrs):
        ax.plot(lrs, raw, color="tab:blue", alpha=0.25, linewidth=1, label="minibatch loss")
    ax.plot(lrs, losses, color="tab:blue", linewidth=2, label="smoothed loss")
    suggestion = float(result.suggestion)
    method = getattr(result, "method", "suggestion")
    ax.axvline(suggestion, color="tab:red", linestyle="--", label=f"suggestion {suggestion:.2g} ({method})")
    y_at = float(np.interp(np.log(suggestion), np.log(lrs), losses)) if len(lrs) > 1 else float(losses[0])
    ax.plot([suggestion], [y_at], marker="o", color="tab:red", markersize=8)
    min_lr = getattr(result, "min_loss_lr", None)
    if min_lr is not None:
        ax.axvline(float(min_lr), color="grey", linestyle=":", label=f"minimum loss at {float(min_lr):.2g}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    ax.set_title("learning-rate finder", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax
