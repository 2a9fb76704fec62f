"""Weight initialisers: float32 arrays drawn from a given ``np.random.Generator``."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["glorot_uniform", "he_normal", "he_uniform", "zeros"]


def _check_fan(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_rng(rng: np.random.Generator) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


def he_normal(
    shape: tuple[int, ...], fan_in: int, rng: np.random.Generator
) -> np.ndarray:
    """He (Kaiming) normal init for ReLU nets: N(0, 2 / fan_in), float32."""
    fan_in = _check_fan("fan_in", fan_in)
    std = np.float32(math.sqrt(2.0 / fan_in))
    return _check_rng(rng).standard_normal(shape, dtype=np.float32) * std


def he_uniform(
    shape: tuple[int, ...], fan_in: int, rng: np.random.Generator
) -> np.ndarray:
    """He uniform init: U(-sqrt(6 / fan_in), +sqrt(6 / fan_in)), float32."""
    fan_in = _check_fan("fan_in", fan_in)
    limit = math.sqrt(6.0 / fan_in)
    u = _check_rng(rng).random(shape, dtype=np.float32)
    return (u * np.float32(2 * limit) - np.float32(limit)).astype(np.float32, copy=False)


def glorot_uniform(
    shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator
) -> np.ndarray:
    """Glorot (Xavier) uniform init: U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    fan_in = _check_fan("fan_in", fan_in)
    fan_out = _check_fan("fan_out", fan_out)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    u = _check_rng(rng).random(shape, dtype=np.float32)
    return (u * np.float32(2 * limit) - np.float32(limit)).astype(np.float32, copy=False)


def zeros(shape: tuple[int, ...]) -> np.ndarray:
    """A float32 array of zeros (biases, BatchNorm's beta)."""
    return np.zeros(shape, dtype=np.float32)
