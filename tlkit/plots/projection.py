"""Features in two dimensions: principal component analysis by SVD, in NumPy."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._axes import get_axes


def pca_2d(features) -> tuple[np.ndarray, np.ndarray]:
    """Project (N, F) features on their first two principal components.

    Returns ``(points (N, 2), explained variance ratio (2,))``. Signs are fixed (the
    largest loading of each component is positive) so the picture is reproducible.
    """
    X = np.asarray(features, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2:
        raise ValueError(f"features must be (N, F) with N >= 2; got shape {X.shape}")
    X = X - X.mean(axis=0)
    _, s, vt = np.linalg.svd(X, full_matrices=False)
    k = min(2, vt.shape[0])
    components = vt[:k]
    signs = np.sign(components[np.arange(k), np.argmax(np.abs(components), axis=1)])
    components = components * np.where(signs == 0, 1.0, signs)[:, None]
    points = X @ components.T
    total = float(np.sum(s**2))
    ratio = (s[:k] ** 2) / total if total > 0 else np.zeros(k)
    if k < 2:  # a single feature: pad with zeros
        points = np.hstack([points, np.zeros((len(X), 1))])
        ratio = np.append(ratio, 0.0)
    return points, ratio


def plot_feature_projection(features_by_name: Mapping, y, ax=None, max_points: int = 2000,
                            class_names=None):
    """Side by side, a 2-D PCA of each set of features, coloured by class.

    ``features_by_name`` maps a name ("pretrained", "random weights", "raw pixels", ...) to
    (N, F) features of the same N samples, labelled ``y``. Well separated colour clusters
    mean a linear head will do well on those features. Returns the Axes (one per name).
    """
    if not isinstance(features_by_name, Mapping) or not features_by_name:
        raise ValueError("features_by_name must be a non-empty dict {name: (N, F) features}")
    labels = np.asarray(y).reshape(-1)
    axes = get_axes(ax, len(features_by_name), figsize=(4.2 * len(features_by_name), 4.0))
    classes = np.unique(labels)
    import matplotlib as mpl

    cmap = mpl.colormaps["tab10" if len(classes) <= 10 else "tab20"]
    for axis, (name, feats) in zip(axes, features_by_name.items(), strict=True):
        feats = np.asarray(feats, dtype=np.float64).reshape(len(np.asarray(feats)), -1)
        if len(feats) != len(labels):
            raise ValueError(f"features_by_name[{name!r}] has {len(feats)} samples but y has {len(labels)} labels")
        points, ratio = pca_2d(feats)
        step = max(1, int(np.ceil(len(points) / max_points)))
        for index, c in enumerate(classes):
            mask = labels[::step] == c
            text = class_names[c] if class_names is not None else c
            axis.scatter(points[::step][mask, 0], points[::step][mask, 1], s=9, alpha=0.75,
                         color=cmap(index % cmap.N), label=str(text))
        axis.set_title(f"{name}\n(PC1+PC2 explain {100 * ratio.sum():.0f}% of variance)", fontsize=10)
        axis.set_xlabel("PC1")
        axis.set_ylabel("PC2")
    if len(classes) <= 20:
        axes[-1].legend(fontsize=7, markerscale=1.5, loc="center left", bbox_to_anchor=(1.0, 0.5), title="class")
    return axes
