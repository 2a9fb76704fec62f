"""Looking at the data: a grid of images (or vectors) with their labels."""

from __future__ import annotations

import numpy as np

from ._axes import get_ax, hide_ticks, mosaic, tile_centers


def _as_images(X) -> tuple[np.ndarray, bool]:
    """(N, H, W) images from (N, H, W), (N, H, W, 1) or one (H, W) image; vectors stay (N, d)."""
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3:
        return arr, True
    if arr.ndim == 2:
        return arr, False
    raise ValueError(
        f"X must be images (N, H, W) or (N, H, W, 1), or vectors (N, d); got shape {arr.shape}"
    )


def show_images(X, y=None, n: int = 16, title: str | None = None, ncols: int = 8,
                class_names=None, ax=None, cmap: str = "gray_r"):
    """Show the first ``n`` samples of ``X`` in a grid, each with its label underneath.

    ``X`` holds images (N, H, W) or (N, H, W, 1), or vectors (N, d), which are shown as
    rows of a heat map. ``y`` (optional) are the labels; ``class_names`` maps a label to
    the text shown. Everything is drawn on one Axes (``ax`` or a new figure), returned.
    """
    arr, images = _as_images(X)
    if len(arr) == 0:
        raise ValueError("X is empty; give at least one sample")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be an integer >= 1; got {n!r}")
    n = min(n, len(arr))
    labels = None
    if y is not None:
        labels = np.asarray(y).reshape(-1)
        if len(labels) < n:
            raise ValueError(f"y has {len(labels)} labels but {n} samples are shown; give one label per sample")
        labels = labels[:n]
    arr = arr[:n]
    finite = arr[np.isfinite(arr)]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if vmax <= vmin:
        vmax = vmin + 1.0

    import matplotlib as mpl

    colormap = mpl.colormaps[cmap].with_extremes(bad="white")
    if images:
        ncols = max(1, min(ncols, n))
        nrows = int(np.ceil(n / ncols))
        h, w = arr.shape[1:]
        ax = get_ax(ax, figsize=(min(1.1 * ncols, 12), 1.25 * nrows + (0.4 if title else 0.1)))
        ax.imshow(mosaic(arr, ncols, pad=max(1, h // 4)), cmap=colormap, vmin=vmin, vmax=vmax,
                  interpolation="nearest")
        if labels is not None:
            for (xc, _, ybottom), label in zip(tile_centers(n, h, w, ncols, pad=max(1, h // 4)), labels,
                                                strict=True):
                text = class_names[label] if class_names is not None else label
                ax.text(xc, ybottom + 0.1 * h, str(text), ha="center", va="top", fontsize=8)
        hide_ticks(ax)
        ax.set_frame_on(False)
    else:
        ax = get_ax(ax, figsize=(6, 0.3 * n + 1))
        ax.imshow(arr, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
        ax.set_xlabel("feature")
        ax.set_yticks(range(n))
        if labels is not None:
            names = [str(class_names[v] if class_names is not None else v) for v in labels]
            ax.set_yticklabels([f"label {t}" for t in names], fontsize=7)
        else:
            ax.set_yticklabels([f"sample {i}" for i in range(n)], fontsize=7)
    if title:
        ax.set_title(title)
    return ax
