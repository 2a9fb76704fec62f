"""Argument checks of the dataset builders (errors name the argument); integers and rngs use
``tlkit.argcheck``."""

from __future__ import annotations

import numbers

import numpy as np

from ..argcheck import as_float_array


def check_nonneg(value: object, name: str, maximum: float | None = None) -> float:
    """Return ``value`` as a finite float >= 0 (and <= maximum), or raise a ValueError."""
    bounds = ">= 0" if maximum is None else f"in [0, {maximum}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number {bounds}; got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be a number {bounds}; got {value!r}")
    return value


def check_images(X: object, name: str = "X", ndims: tuple[int, ...] = (3, 4)) -> np.ndarray:
    """Return a finite float32 image batch (N, H, W) or (N, C, H, W), or raise a ValueError.

    The values are checked as every array at tlkit's boundary is
    (:func:`tlkit.argcheck.as_float_array`: real, finite, within float32's range).
    """
    arr = as_float_array(X, name)
    if arr.ndim not in ndims:
        shapes = " or ".join({3: "(N, H, W)", 4: "(N, C, H, W)"}[d] for d in ndims)
        raise ValueError(f"{name} must be a batch of images {shapes}; got shape {arr.shape}")
    return arr
