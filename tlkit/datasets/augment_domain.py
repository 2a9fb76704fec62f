"""Augmentation that fits the domain: keep the target's noise, or do not interpolate at all.

A bilinear warp (``tlkit/datasets/augment.py``) writes each output pixel as a weighted average
of up to four input pixels. Averaging removes independent pixel noise: a pixel that is half one
input pixel and half its neighbour keeps ``0.5^2 + 0.5^2 = 1/2`` of the noise variance. On the
X-ray images, whose noise is part of the domain, the network then trains on cleaner images than
it is tested on (``studies/xray_augmentation.py`` measured it). Two answers, used by
``Augmenter``:

* **restore the noise** (``Augmenter(restore_noise=True)``): measure each image's noise level
  ``sigma`` (:func:`estimate_noise`), and after the warp add Gaussian noise of variance
  ``sigma^2 * (1 - retained)`` to each pixel, where ``retained`` is the share of the noise
  variance the warp kept at that pixel (:func:`retained_noise`: the sum of the squared
  interpolation weights of the taps inside the image; 0 where the fill was used);
* **do not interpolate** (``Augmenter(interpolation="none")``): integer shifts copy pixels
  exactly (:func:`integer_shift`), and flips (:func:`random_flips`) where the domain allows them
  (not for digits: a mirrored 2 is no digit).
"""

from __future__ import annotations

import math

import numpy as np

FLIPS = ("none", "horizontal", "vertical", "both")

# Immerkaer's mask: the difference of two Laplacians, zero on every locally linear image, so
# edges and gradients of the image cancel and mostly the noise remains.
_NOISE_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float64)


def estimate_noise(X: np.ndarray) -> np.ndarray:
    """Each image's noise standard deviation, by Immerkaer's estimator (1996).

    ``sigma = sqrt(pi / 2) / (6 (H - 2) (W - 2)) * sum |X * M|`` with ``M`` the 3x3 mask above,
    over the valid positions. Exact in expectation for Gaussian noise on a locally linear image;
    image structure (a sharp stroke) adds to it. (N, H, W) -> (N,); (N, C, H, W) -> (N, C).
    Images must be at least 3x3.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim not in (3, 4) or X.shape[-1] < 3 or X.shape[-2] < 3:
        raise ValueError(f"X must be a batch of images (N, H, W) or (N, C, H, W) at least 3x3 to "
                         f"estimate its noise; got shape {X.shape}")
    h, w = X.shape[-2:]
    filtered = np.zeros((*X.shape[:-2], h - 2, w - 2))
    for i in range(3):
        for j in range(3):
            filtered += _NOISE_MASK[i, j] * X[..., i:i + h - 2, j:j + w - 2]
    return math.sqrt(math.pi / 2) * np.abs(filtered).sum(axis=(-2, -1)) / (6 * (h - 2) * (w - 2))


def retained_noise(sy: np.ndarray, sx: np.ndarray, h: int, w: int) -> np.ndarray:
    """Share of an image's independent pixel noise variance that bilinear sampling at source
    coordinates ``(sy, sx)`` keeps, per output pixel (same shape as ``sy``), in [0, 1].

    A sample at ``(sy, sx)`` is ``sum_k w_k x_k`` over its four taps; with independent noise of
    variance ``s^2`` on each ``x_k`` it carries ``s^2 * sum_k w_k^2`` of it (taps outside the image
    read the noise-free fill). The weights factor into rows and columns, and so does the sum.
    """
    def one_axis(coord: np.ndarray, size: int) -> np.ndarray:
        coord = np.clip(coord, -1.0, float(size))
        low = np.floor(coord)
        frac = coord - low
        inside_low = (low >= 0) & (low <= size - 1)
        inside_high = (low + 1 >= 0) & (low + 1 <= size - 1)
        return inside_low * (1 - frac) ** 2 + inside_high * frac ** 2

    return one_axis(np.asarray(sy, np.float64), h) * one_axis(np.asarray(sx, np.float64), w)


def integer_shift(X: np.ndarray, shifts: np.ndarray, fill: np.ndarray | float) -> np.ndarray:
    """Shift each image by whole pixels ``shifts[i] = (dy, dx)`` (down and right positive), copying
    pixels exactly; uncovered pixels get ``fill`` (a number, or one value per image (N,) or per
    image and channel (N, C)). ``X`` is (N, H, W) or (N, C, H, W)."""
    X = np.asarray(X)
    squeeze = X.ndim == 3
    X4 = X[:, None] if squeeze else X
    n, c, h, w = X4.shape
    shifts = np.asarray(shifts, dtype=np.int64).reshape(n, 2)
    fill = np.asarray(fill, dtype=X.dtype)
    out = np.empty_like(X4)
    out[...] = fill if fill.ndim == 0 else fill.reshape(n, -1)[:, :, None, None]
    for dy, dx in {(int(a), int(b)) for a, b in shifts}:
        rows = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
        if abs(dy) >= h or abs(dx) >= w:
            continue  # shifted out entirely: only the fill is left
        dst_y, src_y = slice(max(dy, 0), h + min(dy, 0)), slice(max(-dy, 0), h + min(-dy, 0))
        dst_x, src_x = slice(max(dx, 0), w + min(dx, 0)), slice(max(-dx, 0), w + min(-dx, 0))
        out[rows, :, dst_y, dst_x] = X4[rows, :, src_y, src_x]
    return out[:, 0] if squeeze else out


def integer_shift_retained(shifts: np.ndarray, h: int, w: int) -> np.ndarray:
    """(N, H*W): 1 where an integer shift copied a pixel, 0 where it filled one."""
    shifts = np.asarray(shifts, dtype=np.int64).reshape(-1, 2)
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    src_y = yy.ravel()[None, :] - shifts[:, :1]
    src_x = xx.ravel()[None, :] - shifts[:, 1:]
    return ((src_y >= 0) & (src_y < h) & (src_x >= 0) & (src_x < w)).astype(np.float64)


def random_flips(X: np.ndarray, rng: np.random.Generator, flips: str) -> np.ndarray:
    """Mirror each image left-right (``"horizontal"``), top-bottom (``"vertical"``) or each
    independently (``"both"``) with probability 1/2; ``"none"`` returns a copy."""
    if flips not in FLIPS:
        raise ValueError(f"flips must be one of {FLIPS}; got {flips!r}")
    out = np.array(X, copy=True)
    if flips in ("horizontal", "both"):
        chosen = rng.random(len(out)) < 0.5
        out[chosen] = out[chosen][..., ::-1]
    if flips in ("vertical", "both"):
        chosen = rng.random(len(out)) < 0.5
        out[chosen] = out[chosen][..., ::-1, :]
    return out
