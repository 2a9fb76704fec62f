"""Checks on user input: every error names the argument, what was given and what is valid."""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np


def shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def as_float_array(x, name: str = "x") -> np.ndarray:
    """An array-like (nested lists work) as a finite float32 array."""
    try:
        arr = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric array-like; could not convert it ({exc})") from exc
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {shape_text(arr.shape)}); give at least one sample")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); all values must be finite")
    return arr


def as_batch(x, sample_shape: tuple[int, ...], name: str = "x") -> tuple[np.ndarray, bool]:
    """Return ``(batch, was_single)``: one sample of ``sample_shape`` or a batch of them."""
    arr = as_float_array(x, name)
    if arr.shape == tuple(sample_shape):
        return arr[None, ...], True
    if arr.ndim == len(sample_shape) + 1 and arr.shape[1:] == tuple(sample_shape):
        return arr, False
    expected = f"{shape_text(tuple(sample_shape))} for one sample or (N, {', '.join(map(str, sample_shape))})"
    raise ValueError(
        f"{name} has shape {shape_text(arr.shape)}; expected {expected} for a batch"
    )


def as_labels(y, n_samples: int, num_classes: int | None = None, name: str = "y") -> np.ndarray:
    """Integer class labels as int64, one per sample, within 0..num_classes-1."""
    arr = np.asarray(y)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one label per sample (1-D); got shape {shape_text(arr.shape)}")
    if arr.size and not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.bool_)):
        as_float = arr.astype(np.float64) if np.issubdtype(arr.dtype, np.number) else None
        if as_float is None or not np.all(np.isfinite(as_float)) or np.any(as_float != np.round(as_float)):
            raise ValueError(f"{name} must hold integer class labels; got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if len(arr) != n_samples:
        raise ValueError(
            f"X and {name} have different lengths: X has {n_samples} samples, {name} has {len(arr)} labels"
        )
    if num_classes is not None and arr.size:
        low, high = int(arr.min()), int(arr.max())
        if low < 0 or high >= num_classes:
            offending = low if low < 0 else high
            raise ValueError(
                f"{name} contains label {offending}; valid labels are 0..{num_classes - 1} "
                f"for num_classes={num_classes}"
            )
    return arr


def check_num_classes(num_classes, name: str = "num_classes") -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= 2; got {num_classes!r}")
    if num_classes < 2:
        raise ValueError(f"{name} must be >= 2; got {num_classes}")
    return int(num_classes)


def check_positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0; got {value}")
    return float(value)


def check_int(value, name: str, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int in ``[minimum, maximum]`` (numpy integers too; bools and floats refused)."""
    bounds = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer {bounds}; got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer {bounds}; got {value}")
    return int(value)


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """Demand an explicit ``np.random.Generator``: no global random state anywhere."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"{name} must be a numpy.random.Generator, e.g. np.random.default_rng(0); "
            f"got {type(rng).__name__}"
        )
    return rng


def check_choice(value, name: str, valid: Iterable[str]) -> str:
    valid = list(valid)
    if value not in valid:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, valid))}; got {value!r}")
    return value
