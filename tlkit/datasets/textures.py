"""A low-similarity target task: procedural textures instead of handwriting.

Six classes: stripes in four orientations, checkerboards and dot lattices,
each with a random period, phase, slight tilt, stroke weight and contrast,
plus noise. They are rendered with the digits' "sensor" (a binary 32x32
pattern, on pixels counted in 4x4 blocks) so only the content differs: the
label is a property of the whole image's periodic structure, not of a
stroke shape.
"""

from __future__ import annotations

import numpy as np

from ..argcheck import check_int
from ._validate import check_nonneg

TEXTURE_CLASS_NAMES = (
    "horizontal stripes",
    "vertical stripes",
    "diagonal stripes /",
    "diagonal stripes \\",
    "checkerboard",
    "dots",
)
_ANGLE = np.array([90.0, 0.0, 45.0, 135.0, 0.0, 0.0])  # base orientation per class
_UPSAMPLE = 4


def make_textures(
    n_per_class: int = 300,
    image_size: int = 8,
    seed: int = 0,
    noise_sigma: float = 0.08,
    max_tilt: float = 10.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``(X, y)``: ``n_per_class`` textures of each of the 6 classes
    (names in ``TEXTURE_CLASS_NAMES``), in random order.

    Period 3-5 px, random phase, tilt +-max_tilt degrees, duty cycle 0.35-0.55,
    foreground 0.6-1.0 over background 0-0.15, Gaussian noise, clipped to [0, 1].
    X float32 (N, image_size, image_size), y int64. Deterministic given ``seed``.
    """
    n_per_class = check_int(n_per_class, "n_per_class", minimum=1)
    image_size = check_int(image_size, "image_size", minimum=4, maximum=64)
    seed = check_int(seed, "seed", 0)
    noise_sigma = check_nonneg(noise_sigma, "noise_sigma")
    max_tilt = check_nonneg(max_tilt, "max_tilt", maximum=22.5)
    rng = np.random.Generator(np.random.PCG64([seed, 3]))
    k = len(TEXTURE_CLASS_NAMES)
    n = k * n_per_class
    y = rng.permutation(np.repeat(np.arange(k, dtype=np.int64), n_per_class))
    period = rng.uniform(3.0, 5.0, n) * _UPSAMPLE
    phase = rng.uniform(0.0, 1.0, (n, 2))
    theta = np.deg2rad(_ANGLE[y] + rng.uniform(-max_tilt, max_tilt, n))
    duty = rng.uniform(0.35, 0.55, n)
    fg = rng.uniform(0.6, 1.0, n)
    bg = rng.uniform(0.0, 0.15, n)
    noise = rng.standard_normal((n, image_size, image_size), dtype=np.float32)

    size = _UPSAMPLE * image_size
    c = (size - 1) / 2
    yy, xx = np.meshgrid(np.arange(size) - c, np.arange(size) - c, indexing="ij")
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    p = period[:, None, None]
    u = (xx * cos + yy * sin) / p + phase[:, :1, None]  # across the stripes, in periods
    v = (-xx * sin + yy * cos) / p + phase[:, 1:, None]
    fu, fv = u % 1.0, v % 1.0
    stripes = fu < duty[:, None, None]
    checker = (fu < 0.5) ^ (fv < 0.5)
    dots = (fu - 0.5) ** 2 + (fv - 0.5) ** 2 < (0.6 * duty[:, None, None]) ** 2
    on = np.where((y == 4)[:, None, None], checker,
                  np.where((y == 5)[:, None, None], dots, stripes))
    counts = on.reshape(n, image_size, _UPSAMPLE, image_size, _UPSAMPLE).sum(axis=(2, 4))
    level = counts.astype(np.float32) / np.float32(_UPSAMPLE * _UPSAMPLE)
    X = bg[:, None, None] + (fg - bg)[:, None, None] * level
    X = X + np.float32(noise_sigma) * noise
    return np.clip(X, 0.0, 1.0).astype(np.float32), y
