"""Data augmentation on image batches: random affine warps, flips and additive noise.

Everything is vectorised over the batch and takes an explicit
``np.random.Generator``, so a training loop can call it per minibatch:

    aug = Augmenter(max_shift=1.0, max_rotation=10.0, max_scale=0.1, noise_sigma=0.05)
    xb = aug(xb, rng)

Images are (N, H, W) or (N, C, H, W) (all channels of a sample get the same
warp); values stay float32 in [0, 1].

Pixels a warp uncovers (a shift or a rotation moves the image away from a
corner) must be filled with something. ``Augmenter`` fills them with each
image's own **background**, the median of its border pixels (``fill="border"``):
a zero fill is right for white-on-black digits, but on an X-ray image, whose
background is about 0.7, it paints dark bars along the edges that no real
image has (about a fifth of the border pixels with the default settings).
``affine_warp`` and ``random_affine`` take the same ``fill`` argument and keep
0.0 as their default (the dataset builders place images on a black canvas).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..argcheck import check_rng
from ._validate import check_images, check_nonneg
from .augment_domain import (
    FLIPS,
    estimate_noise,
    integer_shift,
    integer_shift_retained,
    random_flips,
    retained_noise,
)

FILLS = ("border",)


def border_background(X: np.ndarray) -> np.ndarray:
    """Each image's background: the median of its border pixels, per channel.

    ``X`` is (N, H, W) -> (N,) or (N, C, H, W) -> (N, C).
    """
    X = check_images(X)
    X4 = X[:, None] if X.ndim == 3 else X
    border = np.concatenate(
        [X4[:, :, 0, :], X4[:, :, -1, :], X4[:, :, 1:-1, 0], X4[:, :, 1:-1, -1]], axis=2
    )
    background = np.median(border, axis=2).astype(np.float32)
    return background[:, 0] if X.ndim == 3 else background


def check_fill(fill: object) -> float | str:
    """``fill`` is a finite number or ``"border"``; anything else raises a ValueError."""
    if isinstance(fill, str):
        if fill not in FILLS:
            raise ValueError(f"fill must be a number or one of {FILLS}; got {fill!r}")
        return fill
    if isinstance(fill, bool) or not isinstance(fill, int | float | np.floating | np.integer) \
            or not np.isfinite(fill):
        raise ValueError(f"fill must be a number or one of {FILLS}; got {fill!r}")
    return float(fill)


def source_coordinates(n: int, in_hw: tuple[int, int], out_hw: tuple[int, int], angle, scale, shift):
    """``(sy, sx)``, each (N, Ho*Wo): where in the source image each output pixel of the warp
    samples (the output grid relative to its centre, mapped back through the rotation, the scaling
    and the shift). Per-sample parameters are arrays of length N, scalars apply to all."""
    (h, w), (ho, wo) = in_hw, out_hw
    angle = np.broadcast_to(np.asarray(angle, dtype=np.float64), (n,))
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), (n,))
    shift = np.broadcast_to(np.asarray(shift, dtype=np.float64), (n, 2))
    if np.any(scale <= 0):
        raise ValueError(f"scale must be > 0; got min {scale.min()}")
    yy, xx = np.meshgrid(np.arange(ho, dtype=np.float64), np.arange(wo, dtype=np.float64),
                         indexing="ij")
    py = yy.ravel()[None, :] - (ho - 1) / 2.0 - shift[:, :1]
    px = xx.ravel()[None, :] - (wo - 1) / 2.0 - shift[:, 1:]
    theta = np.deg2rad(angle)[:, None]
    cos, sin, inv_s = np.cos(theta), np.sin(theta), 1.0 / scale[:, None]
    sy = (cos * py - sin * px) * inv_s + (h - 1) / 2.0
    sx = (sin * py + cos * px) * inv_s + (w - 1) / 2.0
    return sy, sx


def affine_warp(
    X: np.ndarray,
    angle: np.ndarray | float = 0.0,
    scale: np.ndarray | float = 1.0,
    shift: np.ndarray | tuple[float, float] = (0.0, 0.0),
    out_shape: tuple[int, int] | None = None,
    fill: float | str = 0.0,
) -> np.ndarray:
    """Rotate (degrees), scale and shift (pixels, (dy, dx)) each image about its centre.

    Per-sample parameters are arrays of length N (``shift``: (N, 2)); scalars
    apply to all. Bilinear sampling; outside the source image the value is
    ``fill``: a number, or ``"border"`` for each image's own background (the
    median of its border pixels, per channel; see :func:`border_background`).
    With ``out_shape`` bigger than the input, the image is placed at the centre
    of a canvas of that fill first. Integer shifts with no rotation or scaling
    are exact, and a constant image with ``fill="border"`` stays constant.
    """
    X = check_images(X)
    fill = check_fill(fill)
    squeeze = X.ndim == 3
    X4 = X[:, None] if squeeze else X
    n, c, h, w = X4.shape
    # Warping is linear with zeros outside, so warp(X - f) + f fills with f exactly.
    if fill == "border":
        background = border_background(X4)[:, :, None, None]
    else:
        background = np.float32(fill)
    if not (np.ndim(background) == 0 and background == 0):
        out = affine_warp(X4 - background, angle, scale, shift, out_shape) + background
        lo, hi = min(X4.min(), np.min(background)), max(X4.max(), np.max(background))
        out = np.clip(out, lo, hi).astype(np.float32)  # a convex combination: clip only rounding
        return out[:, 0] if squeeze else out
    ho, wo = (h, w) if out_shape is None else (int(out_shape[0]), int(out_shape[1]))

    sy, sx = source_coordinates(n, (h, w), (ho, wo), angle, scale, shift)

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
    fill: float | str = 0.0,
) -> np.ndarray:
    """Warp each image by a random shift (+-max_shift px per axis), rotation
    (+-max_rotation degrees) and scale (1 +- max_scale), all uniform; uncovered
    pixels get ``fill`` (see :func:`affine_warp`).

    All zero (and no ``out_shape``): returns the images unchanged (a copy).
    """
    X = check_images(X)
    rng = check_rng(rng)
    max_shift = check_nonneg(max_shift, "max_shift")
    max_rotation = check_nonneg(max_rotation, "max_rotation", maximum=180.0)
    max_scale = check_nonneg(max_scale, "max_scale", maximum=0.99)
    angle, scale, shift = warp_parameters(rng, X.shape[0], max_shift, max_rotation, max_scale)
    return affine_warp(X, angle, scale, shift, out_shape, fill)


def warp_parameters(rng: np.random.Generator, n: int, max_shift: float, max_rotation: float,
                    max_scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(angle, scale, shift)`` of ``n`` random warps, uniform in their ranges (the draws of
    :func:`random_affine`, in its order: shifts, angles, scales)."""
    shift = rng.uniform(-max_shift, max_shift, size=(n, 2))
    angle = rng.uniform(-max_rotation, max_rotation, size=n)
    scale = 1.0 + rng.uniform(-max_scale, max_scale, size=n)
    return angle, scale, shift


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
    """A callable ``(X, rng) -> X_aug``: random flips and warp, then noise.

    ``p`` is the probability that an image is changed at all (the rest stay
    as they are, apart from the added noise). ``fill`` is what uncovered pixels
    become: ``"border"`` (default) is each image's own background, the median
    of its border pixels; a number fills with that value.

    Options for a domain whose look must survive the augmentation
    (:mod:`tlkit.datasets.augment_domain`):

    * ``restore_noise=True``: measure each image's noise level first (Immerkaer's
      estimator) and, after the warp, add back the noise the interpolation averaged
      away, pixel by pixel, so the augmented image is as noisy as the original;
    * ``interpolation="none"``: no resampling at all: whole-pixel shifts (up to
      ``floor(max_shift)`` per axis) that copy pixels exactly; ``max_rotation`` and
      ``max_scale`` must then be 0 (:meth:`without_interpolation` sets them);
    * ``flips``: ``"horizontal"``, ``"vertical"`` or ``"both"`` mirror each image with
      probability 1/2 per axis, where the domain allows it (not for digits).

    Fields are frozen (assigning one raises ``dataclasses.FrozenInstanceError``
    naming it) and checked at construction and again at every call, so a field
    changed behind the dataclass's back is refused by name, never used.
    """

    max_shift: float = 1.0
    max_rotation: float = 10.0
    max_scale: float = 0.1
    noise_sigma: float = 0.0
    p: float = 1.0
    fill: float | str = "border"
    restore_noise: bool = False
    interpolation: str = "bilinear"
    flips: str = "none"

    @classmethod
    def without_interpolation(cls, max_shift: int = 1, flips: str = "none", **fields) -> Augmenter:
        """Whole-pixel shifts of up to ``max_shift`` (and ``flips``): every pixel copied, none averaged."""
        return cls(max_shift=max_shift, max_rotation=0.0, max_scale=0.0, interpolation="none",
                   flips=flips, **fields)

    def __post_init__(self) -> None:
        self._check_fields()

    def _check_fields(self) -> None:
        """Each field in its range; a ValueError naming the first one that is not."""
        check_fill(self.fill)
        check_nonneg(self.max_shift, "max_shift")
        check_nonneg(self.max_rotation, "max_rotation", maximum=180.0)
        check_nonneg(self.max_scale, "max_scale", maximum=0.99)
        check_nonneg(self.noise_sigma, "noise_sigma")
        check_nonneg(self.p, "p", maximum=1.0)
        if not isinstance(self.restore_noise, bool | np.bool_):
            raise ValueError(f"restore_noise must be True or False; got {self.restore_noise!r}")
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {INTERPOLATIONS}; got {self.interpolation!r}")
        if self.flips not in FLIPS:
            raise ValueError(f"flips must be one of {FLIPS}; got {self.flips!r}")
        if self.interpolation == "none" and (self.max_rotation or self.max_scale):
            raise ValueError(
                "interpolation='none' allows whole-pixel shifts and flips only: max_rotation and "
                f"max_scale must be 0; got max_rotation={self.max_rotation!r}, max_scale={self.max_scale!r} "
                "(Augmenter.without_interpolation(max_shift=1) sets them)")

    def __call__(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        try:
            self._check_fields()
        except ValueError as exc:
            raise ValueError(f"Augmenter field {exc} (changed after construction)") from None
        X = check_images(X)
        rng = check_rng(rng)
        n, (h, w) = X.shape[0], X.shape[-2:]
        sigma = estimate_noise(X) if self.restore_noise else None  # measured before anything moves
        source = X if self.flips == "none" else random_flips(X, rng, self.flips)
        if self.interpolation == "bilinear":
            angle, scale, shift = warp_parameters(rng, n, self.max_shift, self.max_rotation, self.max_scale)
            out = affine_warp(source, angle, scale, shift, fill=self.fill)
            retained = retained_noise(*source_coordinates(n, (h, w), (h, w), angle, scale, shift), h, w) \
                if self.restore_noise else None
        else:
            reach = int(np.floor(self.max_shift))
            shift = rng.integers(-reach, reach + 1, size=(n, 2))
            fill = border_background(source) if self.fill == "border" else self.fill
            out = integer_shift(source, shift, fill)
            retained = integer_shift_retained(shift, h, w) if self.restore_noise else None
        if self.p < 1.0:
            keep = rng.random(n) >= self.p
            out[keep] = X[keep]
            if retained is not None:
                retained[keep] = 1.0
        if sigma is not None:
            out = _restore_noise(out, sigma, retained, rng)
        return add_noise(out, rng, self.noise_sigma)


INTERPOLATIONS = ("bilinear", "none")


def _restore_noise(out: np.ndarray, sigma: np.ndarray, retained: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """Add Gaussian noise of variance ``sigma^2 * (1 - retained)`` to each pixel, clip to [0, 1]."""
    missing = np.sqrt(np.clip(1.0 - retained, 0.0, 1.0)).reshape(len(out), *out.shape[-2:])
    if out.ndim == 4:  # (N, C, H, W): sigma per image and channel, the same warp for every channel
        scale = sigma[:, :, None, None] * missing[:, None]
    else:
        scale = sigma[:, None, None] * missing
    noise = rng.standard_normal(out.shape, dtype=np.float32) * scale.astype(np.float32)
    return np.clip(out + noise, 0.0, 1.0).astype(np.float32)


def checked_augment(augment):
    """``augment`` with its output checked: same shape as the minibatch, real and finite.

    A broken augmenter is named as the cause (ValueError naming ``augment``) instead of
    surfacing as a diverged loss or a shape error deep in the network.
    """
    if augment is None:
        return None

    def run(xb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = augment(xb, rng)
        try:
            arr = np.asarray(out)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"augment returned something that is not an array ({exc})") from exc
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"augment must return real numbers; it returned {type(out).__name__} "
                             f"of dtype {arr.dtype}")
        if arr.shape != xb.shape:
            raise ValueError(f"augment returned shape {arr.shape} for a minibatch of shape {xb.shape}; "
                             "an augmenter must keep the shape")
        arr = arr.astype(np.float32, copy=False)
        if not np.all(np.isfinite(arr)):
            bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
            raise ValueError(f"augment returned {bad} NaN or infinite value(s) for a finite minibatch; "
                             "the augmenter is broken (the training data is fine)")
        return arr

    return run


def channel_adapter(augment, image_input: bool):
    """Let an augmenter written for (N, H, W) images work on the network's (N, H, W, 1) input."""
    if augment is None or not image_input:
        return augment

    def augment_nhwc(xb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.asarray(augment(xb[..., 0], rng), dtype=np.float32)[..., None]

    return augment_nhwc
