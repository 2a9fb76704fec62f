"""Domain shifts: the same digits seen through a different "camera".

- ``xray_style``: the course's medical-imaging story. Inverted contrast (dark
  strokes on a bright background), blur, lower contrast and sensor noise.
- ``in_the_wild``: each image on a bigger canvas with a random pose (shift,
  rotation, scale), a little clutter (faint strokes and blobs) and noise.

Both are vectorised over the batch and draw every random number from the
``rng`` they are given, so the same seed gives the same shifted images.
"""

from __future__ import annotations

import numpy as np

from ..argcheck import check_int, check_rng
from ._validate import check_images, check_nonneg
from .augment import random_affine

_CHUNK = 2048


def gaussian_kernel(sigma: float) -> np.ndarray:
    """A normalised 1-D Gaussian kernel of radius ceil(3 sigma)."""
    radius = max(1, int(np.ceil(3.0 * sigma)))
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def gaussian_blur(X: np.ndarray, sigma: float) -> np.ndarray:
    """Blur a batch (N, H, W) with a separable Gaussian (rows, then columns).

    Edges are extended by reflection, so a flat background stays flat.
    """
    X = check_images(X, ndims=(3,))
    sigma = check_nonneg(sigma, "sigma")
    if sigma == 0.0:
        return X.copy()
    k = gaussian_kernel(sigma)
    r = len(k) // 2
    out = X
    for axis in (1, 2):
        pad = [(0, 0)] * 3
        pad[axis] = (r, r)
        p = np.pad(out, pad, mode="symmetric")
        n = out.shape[axis]
        acc = np.zeros_like(out)
        for i, w in enumerate(k):
            acc += w * np.take(p, np.arange(i, i + n), axis=axis)
        out = acc
    return out


def xray_style(
    X: np.ndarray,
    rng: np.random.Generator,
    blur_sigma: float = 0.7,
    contrast: float = 0.45,
    noise_sigma: float = 0.08,
) -> np.ndarray:
    """Make images look like a low-quality X-ray: invert, blur, squeeze the
    contrast towards mid-grey (``0.5 + contrast * (x - 0.5)``), add Gaussian
    noise, clip to [0, 1].
    """
    X = check_images(X, ndims=(3,))
    rng = check_rng(rng)
    blur_sigma = check_nonneg(blur_sigma, "blur_sigma")
    contrast = check_nonneg(contrast, "contrast", maximum=1.0)
    noise_sigma = check_nonneg(noise_sigma, "noise_sigma")
    out = gaussian_blur(1.0 - X, blur_sigma)
    out = 0.5 + np.float32(contrast) * (out - 0.5)
    out = out + np.float32(noise_sigma) * rng.standard_normal(X.shape, dtype=np.float32)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def add_clutter(
    X: np.ndarray,
    rng: np.random.Generator,
    clutter: float = 1.0,
    max_items: int = 3,
    intensity: tuple[float, float] = (0.15, 0.4),
) -> np.ndarray:
    """Overlay faint distractors: short soft line segments and Gaussian blobs.

    Each image gets up to ``max_items``, each present with probability
    ``clutter / max_items`` (so ``clutter`` items on average); they are
    combined with the image by a pixel-wise maximum, so they never erase it.
    """
    X = check_images(X, ndims=(3,))
    rng = check_rng(rng)
    max_items = check_int(max_items, "max_items", minimum=1)
    clutter = check_nonneg(clutter, "clutter", maximum=float(max_items))
    n, h, w = X.shape
    m = max_items
    present = rng.random((n, m)) < clutter / m
    is_blob = rng.random((n, m)) < 0.5
    amp = rng.uniform(intensity[0], intensity[1], size=(n, m)) * present
    centre = rng.uniform(0, 1, size=(n, m, 2)) * [h - 1, w - 1]
    length = rng.uniform(2.0, 0.5 * min(h, w), size=(n, m))
    theta = rng.uniform(0, np.pi, size=(n, m))
    blob_sigma = rng.uniform(0.6, 1.2, size=(n, m))
    half = 0.5 * length[..., None] * np.stack([np.sin(theta), np.cos(theta)], axis=-1)
    a, b = centre - half, centre + half  # segment end points, (n, m, 2)

    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    p = np.stack([yy.ravel(), xx.ravel()], axis=-1).astype(np.float64)  # (P, 2)
    layer = np.empty((n, h * w), dtype=np.float32)
    for s in range(0, n, _CHUNK):  # bounded memory; no random draws in here
        c = slice(s, s + _CHUNK)
        ab = (b[c] - a[c])[:, :, None, :]
        ap = p[None, None] - a[c][:, :, None, :]
        t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-9), 0.0, 1.0)
        d2_line = ((ap - t[..., None] * ab) ** 2).sum(-1)
        d2_blob = ((p[None, None] - centre[c][:, :, None, :]) ** 2).sum(-1)
        line = np.exp(-d2_line / (2 * 0.5**2))
        blob = np.exp(-d2_blob / (2 * blob_sigma[c][..., None] ** 2))
        layer[c] = (amp[c][..., None] * np.where(is_blob[c][..., None], blob, line)).max(axis=1)
    return np.maximum(X, layer.reshape(n, h, w))


def in_the_wild(
    X: np.ndarray,
    rng: np.random.Generator,
    canvas: int = 12,
    max_shift: float = 2.0,
    max_rotation: float = 25.0,
    max_scale: float = 0.15,
    noise_sigma: float = 0.05,
    clutter: float = 1.0,
) -> np.ndarray:
    """Put each image on a ``canvas`` x ``canvas`` background with a random pose
    (shift +-max_shift px, rotation +-max_rotation degrees, scale 1 +- max_scale),
    add faint clutter (``clutter`` items per image on average) and Gaussian
    noise, clip to [0, 1].
    """
    X = check_images(X, ndims=(3,))
    rng = check_rng(rng)
    canvas = check_int(canvas, "canvas", minimum=max(X.shape[1], X.shape[2]))
    noise_sigma = check_nonneg(noise_sigma, "noise_sigma")
    out = random_affine(X, rng, max_shift, max_rotation, max_scale, out_shape=(canvas, canvas))
    out = add_clutter(np.clip(out, 0.0, 1.0), rng, clutter)
    out = out + np.float32(noise_sigma) * rng.standard_normal(out.shape, dtype=np.float32)
    return np.clip(out, 0.0, 1.0).astype(np.float32)
