"""Data augmentation on image batches: random affine warps and additive noise.

Everything is vectorised over the batch and takes an explicit
``np.random.Generator``, so a training loop can call it per minibatch:

    aug = Augmenter(max_shift=1.0, max_rotation=10.0, max_scale=0.1, noise_sigma=0.05)
    xb = aug(xb, rng)

Images are (N, H, W) or (N, C, H, W) (all channels of a sample get the same
warp); values stay float32 in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import check_rng
from ._validate import check_images, check_nonneg


def affine_warp(
    X: np.ndarray,
    angle: np.ndarray | float = 0.0,
    scale: np.ndarray | float = 1.0,
    shift: np.ndarray | tuple[float, float] = (0.0, 0.0),
    out_shape: tuple[int, int] | None = None,
) -> np.ndarray:
    """Rotate (degrees), scale and shift (pixels, (dy, dx)) each image about its centre.

    Per-sample parameters are arrays of length N (``shift``: (N, 2)); scalars
    apply to all. Bilinear sampling, zeros outside the source image. With
    ``out_shape`` bigger than the input, the image is placed at the centre of a
    bigger canvas first. Integer shifts with no rotation or scaling are exact.
    """
    X = check_images(X)
    squeeze = X.ndim == 3
    X4 = X[:, None] if squeeze else X
    n, c, h, w = X4.shape
    ho, wo = (h, w) if out_shape is None else (int(out_shape[0]), int(out_shape[1]))
    angle = np.broadcast_to(np.asarray(angle, dtype=np.float64), (n,))
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), (n,))
    shift = np.broadcast_to(np.asarray(shift, dtype=np.float64), (n, 2))
    if np.any(scale <= 0):
        raise ValueError(f"scale must be > 0; got min {scale.min()}")

    # Output pixel grid relative to the output centre, mapped back into the source.
    yy, xx = np.meshgrid(np.arange(ho, dtype=np.float64), np.arange(wo, dtype=np.float64),
                         indexing="ij")
    py = yy.ravel()[None, :] - (ho - 1) / 2.0 - shift[:, :1]
    px = xx.ravel()[None, :] - (wo - 1) / 2.0 - shift[:, 1:]
    theta = np.deg2rad(angle)[:, None]
    cos, sin, inv_s = np.cos(theta), np.sin(theta), 1.0 / scale[:, None]
    sy = (cos * py - sin * px) * inv_s + (h - 1) / 2.0
    sx = (sin * py + cos * px) * inv_s + (w - 1) / 2.0

    # Bilinear gather from a zero-padded copy (a 1-pixel zero border catches
    # everything outside the image once coordinates are clipped to it).
    sy = np.clip(sy, -1.0, float(h))
    sx = np.clip(sx, -1.0, float(w))
    y0, x0 = np.floor(sy), np.floor(sx)
    wy, wx = (sy - y0).astype(np.float32), (sx - x0).astype(np.float32)
    y0 = y0.astype(np.intp) + 1
    x0 = x0.astype(np.intp) + 1
    y1 = np.minimum(y0 + 1, h + 1)
    x1 = np.minimum(x0 + 1, w + 1)
    wp = w + 2
    flat = np.pad(X4, ((0, 0), (0, 0), (1, 1), (1, 1))).reshape(n, c, -1)

    def gather(iy: np.ndarray, ix: np.ndarray) -> np.ndarray:
        return np.take_along_axis(flat, (iy * wp + ix)[:, None, :], axis=2)

    wy, wx = wy[:, None, :], wx[:, None, :]
    top = gather(y0, x0) * (1 - wx) + gather(y0, x1) * wx
    bottom = gather(y1, x0) * (1 - wx) + gather(y1, x1) * wx
    out = (top * (1 - wy) + bottom * wy).reshape(n, c, ho, wo).astype(np.float32)
    return out[:, 0] if squeeze else out


def random_affine(
    X: np.ndarray,
    rng: np.random.Generator,
    max_shift: float = 1.0,
    max_rotation: float = 10.0,
    max_scale: float = 0.1,
    out_shape: tuple[int, int] | None = None,
) -> np.ndarray:
    """Warp each image by a random shift (+-max_shift px per axis), rotation
    (+-max_rotation degrees) and scale (1 +- max_scale), all uniform.

    All zero (and no ``out_shape``): returns the images unchanged (a copy).
    """
    X = check_images(X)
    rng = check_rng(rng)
    max_shift = check_nonneg(max_shift, "max_shift")
    max_rotation = check_nonneg(max_rotation, "max_rotation", maximum=180.0)
    max_scale = check_nonneg(max_scale, "max_scale", maximum=0.99)
    n = X.shape[0]
    shift = rng.uniform(-max_shift, max_shift, size=(n, 2))
    angle = rng.uniform(-max_rotation, max_rotation, size=n)
    scale = 1.0 + rng.uniform(-max_scale, max_scale, size=n)
    return affine_warp(X, angle, scale, shift, out_shape)


def add_noise(X: np.ndarray, rng: np.random.Generator, sigma: float = 0.05) -> np.ndarray:
    """Add Gaussian noise of standard deviation ``sigma`` and clip to [0, 1]."""
    X = check_images(X)
    rng = check_rng(rng)
    sigma = check_nonneg(sigma, "sigma")
    if sigma == 0.0:
        return X.copy()
    noise = rng.standard_normal(X.shape, dtype=np.float32) * np.float32(sigma)
    return np.clip(X + noise, 0.0, 1.0)


@dataclass(frozen=True)
class Augmenter:
    """A callable ``(X, rng) -> X_aug``: random affine warp, then Gaussian noise.

    ``p`` is the probability that an image is warped at all (the rest stay
    as they are, apart from the noise).
    """

    max_shift: float = 1.0
    max_rotation: float = 10.0
    max_scale: float = 0.1
    noise_sigma: float = 0.0
    p: float = 1.0

    def __post_init__(self) -> None:
        check_nonneg(self.max_shift, "max_shift")
        check_nonneg(self.max_rotation, "max_rotation", maximum=180.0)
        check_nonneg(self.max_scale, "max_scale", maximum=0.99)
        check_nonneg(self.noise_sigma, "noise_sigma")
        check_nonneg(self.p, "p", maximum=1.0)

    def __call__(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        X = check_images(X)
        rng = check_rng(rng)
        out = random_affine(X, rng, self.max_shift, self.max_rotation, self.max_scale)
        if self.p < 1.0:
            keep = rng.random(X.shape[0]) >= self.p
            out[keep] = X[keep]
        return add_noise(out, rng, self.noise_sigma)
