"""Learning rates: each block's rate per epoch, and the learning-rate finder's sweep."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.ticker import MaxNLocator

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


def _groups(rates: dict[str, list[float]]) -> list[list[str]]:
    """Blocks whose rate is the same at every epoch, grouped (in their order): one line each."""
    groups: list[list[str]] = []
    for name, values in rates.items():
        for group in groups:
            if rates[group[0]] == values:
                group.append(name)
                break
        else:
            groups.append([name])
    return groups


def plot_lr_per_block(history, ax=None, title: str = "learning rate of each block"):
    """Each block's learning rate per epoch on a log axis.

    Blocks with the same rate at every epoch share one line, labelled with all their
    names (drawn separately they would hide each other); the head is a wide translucent
    band under the blocks' lines, so a block trained at the head's rate shows on top of it.
    A frozen epoch (rate 0) leaves a gap and is marked with an x in a row of its own under
    the curves, one row per line, so the warm-up (head only) and gradual unfreezing are
    visible. Returns the Axes.
    """
    rates = _rates_of(history)
    ax = get_ax(ax, figsize=(6.0, 3.4))
    positive = [v for values in rates.values() for v in values if v > 0]
    floor = min(positive) / 3 if positive else 1e-6
    import matplotlib as mpl

    cmap = mpl.colormaps["viridis"]
    groups = _groups(rates)
    markers = "osD^v<>p"
    lowest = floor
    for index, group in enumerate(groups):
        values = np.asarray(rates[group[0]], dtype=np.float64)
        epochs = np.arange(1, len(values) + 1)
        color = "black" if "head" in group else cmap(index / max(1, len(groups) - 1) * 0.9)
        label = " = ".join(group) + (" (same rate)" if len(group) > 1 else "")
        shown = np.where(values > 0, values, np.nan)
        if "head" in group:  # a wide translucent band underneath: a block at the head's rate stays visible
            ax.plot(epochs, shown, color=color, alpha=0.3, linewidth=7, solid_capstyle="butt", zorder=1,
                    label=label, marker="o", markersize=9, markerfacecolor=(0, 0, 0, 0.3), markeredgewidth=0)
        else:
            ax.plot(epochs, shown, marker=markers[index % len(markers)], markersize=5, color=color, label=label,
                    linewidth=1.5, zorder=3)
        frozen = epochs[values <= 0]
        if len(frozen):
            row = floor / (1.6 ** index)  # one row per line: the x marks never stack
            lowest = min(lowest, row)
            ax.scatter(frozen, np.full(len(frozen), row), marker="x", color=color, s=22)
    ax.set_yscale("log")
    ax.set_ylim(bottom=lowest / 1.5)
    n_epochs = max((len(v) for v in rates.values()), default=1)
    ax.set_xlim(0.5, n_epochs + 0.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.set_title(title + "\n(x at the bottom: frozen that epoch)", fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


def _loss_axis_top(losses: np.ndarray, raw: np.ndarray | None) -> float | None:
    """A y-axis top that keeps the useful part readable, or None when nothing needs clipping.

    The range test ends by diverging: a spike of the loss (to 45 where it starts at 2.3)
    would flatten the part that matters. The axis stops at twice the starting loss.
    """
    finite = losses[np.isfinite(losses)]
    if not len(finite):
        return None
    start = float(finite[0])
    highest = max(float(np.nanmax(finite)), float(np.nanmax(raw)) if raw is not None and len(raw) else -np.inf)
    limit = 2.0 * start if start > 0 else None
    return limit if limit is not None and highest > limit else None


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
    top = _loss_axis_top(losses, raw if show_raw and raw is not None and len(raw) == len(lrs) else None)
    if top is not None:
        bottom = min(float(np.nanmin(losses)), float(np.nanmin(raw)) if raw is not None and len(raw) else np.inf)
        ax.set_ylim(bottom - 0.05 * (top - bottom), top)
        ax.annotate("diverges: the curve leaves the plot", xy=(0.99, 0.97), xycoords="axes fraction",
                    ha="right", va="top", fontsize=8, color="grey")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    ax.set_title("learning-rate finder", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax
