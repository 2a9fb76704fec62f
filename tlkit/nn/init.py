"""Weight initialisers: float32 arrays drawn from a given ``np.random.Generator``."""

from __future__ import annotations

import math

import numpy as np

from tlkit.argcheck import check_int, check_rng

__all__ = ["glorot_uniform", "he_normal", "he_uniform", "zeros"]


def he_normal(
    shape: tuple[int, ...], fan_in: int, rng: np.random.Generator
) -> np.ndarray:
    """He (Kaiming) normal init for ReLU nets: N(0, 2 / fan_in), float32."""
    fan_in = check_int(fan_in, "fan_in", 1)
    std = np.float32(math.sqrt(2.0 / fan_in))
    return check_rng(rng).standard_normal(shape, dtype=np.float32) * std


def he_uniform(
    shape: tuple[int, ...], fan_in: int, rng: np.random.Generator
) -> np.ndarray:
    """He uniform init: U(-sqrt(6 / fan_in), +sqrt(6 / fan_in)), float32."""
    fan_in = check_int(fan_in, "fan_in", 1)
    limit = math.sqrt(6.0 / fan_in)
    u = check_rng(rng).random(shape, dtype=np.float32)
    return (u * np.float32(2 * limit) - np.float32(limit)).astype(np.float32, copy=False)


def glorot_uniform(
    shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator
) -> np.ndarray:
    """Glorot (Xavier) uniform init: U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    fan_in = check_int(fan_in, "fan_in", 1)
    fan_out = check_int(fan_out, "fan_out", 1)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    u = check_rng(rng).random(shape, dtype=np.float32)
    return (u * np.float32(2 * limit) - np.float32(limit)).astype(np.float32, copy=False)


def zeros(shape: tuple[int, ...]) -> np.ndarray:
    """A float32 array of zeros (biases, BatchNorm's beta)."""
    return np.zeros(shape, dtype=np.float32)
