"""Shared helpers of the plots: getting axes, tiling images into one mosaic, colours."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import strategy_rule

#: One colour per strategy, the same in every figure of the course.
STRATEGY_COLORS = {
    "feature_extraction": "tab:blue",
    "fine_tuning": "tab:orange",
    "from_scratch": "tab:green",
}
STRATEGY_LABELS = {
    **strategy_rule.STRATEGY_LABELS,
    "from_scratch_augmented": "from scratch + augmentation",  # the study's extra baselines
    "raw_pixels": "raw pixels (softmax regression)",
}


def strategy_color(name: str, index: int = 0) -> str:
    return STRATEGY_COLORS.get(name, f"C{(index + 3) % 10}")


def strategy_label(name: str) -> str:
    return STRATEGY_LABELS.get(name, str(name))


def get_ax(ax=None, figsize: tuple[float, float] = (5.0, 3.5)):
    """``ax`` itself, or the single Axes of a new pyplot figure."""
    if ax is not None:
        if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
            raise TypeError(f"ax must be a matplotlib Axes or None; got {type(ax).__name__}")
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots(figsize=figsize)
    return new_ax


def get_axes(ax, n: int, figsize: tuple[float, float] | None = None, ncols: int | None = None) -> np.ndarray:
    """``n`` Axes as a 1-D object array: from ``ax`` (an Axes when n == 1, or a sequence of n),
    or from a new pyplot figure with ``ncols`` columns (default: all in one row)."""
    if ax is not None:
        if hasattr(ax, "plot"):
            axes = [ax]
        elif isinstance(ax, Sequence | np.ndarray):
            axes = list(np.ravel(np.asarray(ax, dtype=object)))
        else:
            raise TypeError(f"ax must be a matplotlib Axes, a sequence of {n} Axes, or None; got {type(ax).__name__}")
        if len(axes) != n:
            raise ValueError(f"ax must hold {n} Axes for this plot (one per panel); got {len(axes)}")
        return np.array(axes, dtype=object)
    import matplotlib.pyplot as plt

    ncols = n if ncols is None else max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    if figsize is None:
        figsize = (4.2 * ncols, 3.4 * nrows)
    _, grid = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    flat = list(grid.ravel())
    for extra in flat[n:]:
        extra.set_visible(False)
    return np.array(flat[:n], dtype=object)


def mosaic(tiles: np.ndarray, ncols: int, pad: int = 1, fill: float = np.nan) -> np.ndarray:
    """Tile (N, h, w) arrays into one (rows*(h+pad)-pad, cols*(w+pad)-pad) image, NaN between tiles."""
    tiles = np.asarray(tiles, dtype=np.float64)
    n, h, w = tiles.shape
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    out = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), fill)
    for i in range(n):
        r, c = divmod(i, ncols)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = tiles[i]
    return out


def tile_centers(n: int, h: int, w: int, ncols: int, pad: int = 1) -> list[tuple[float, float, float]]:
    """(x centre, y top, y bottom) of each tile of :func:`mosaic`, in image coordinates."""
    ncols = max(1, min(ncols, n))
    out = []
    for i in range(n):
        r, c = divmod(i, ncols)
        x0, y0 = c * (w + pad), r * (h + pad)
        out.append((x0 + (w - 1) / 2, y0 - 0.5, y0 + h - 0.5))
    return out


def hide_ticks(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
