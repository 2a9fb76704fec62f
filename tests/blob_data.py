"""Gaussian blobs: the small labelled dataset many tests train on (shared by conftest.py
and by modules that are not tests, such as the input catalogue)."""

from __future__ import annotations

import numpy as np


def make_blobs(n: int = 48, d: int = 6, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``k`` Gaussian blobs in ``d`` dimensions: centres drawn with spread 3, points with
    noise 0.5 around them; ``n`` float32 points with labels ``0, 1, ..., k-1, 0, 1, ...``."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    centres = rng.normal(0, 3, (k, d)).astype(np.float32)
    return (centres[y] + rng.normal(0, 0.5, (n, d))).astype(np.float32), y
