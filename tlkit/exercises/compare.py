"""Strict comparisons of decoded plain data, for the exercises' ``compare`` functions.

They run in the instructor's process on what :func:`tlkit.exercises.plain.decode`
returned, so every value has an exact built-in type or is a fresh ``np.ndarray``.
Each helper raises :class:`~tlkit.exercises.registry.CheckFailure` with a kind (which
selects the hint) and a deterministic message.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tlkit.exercises.registry import CheckFailure

__all__ = ["fmt", "type_name", "expect_array", "expect_equal", "expect_number"]


def type_name(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return type(value).__name__


def fmt(value: Any) -> str:
    """A short, deterministic, one-line rendering of a value for a failure message."""
    if isinstance(value, np.ndarray) or (
        isinstance(value, list) and value and all(type(v) in (int, float) for v in value)
    ):
        arr = np.asarray(value)
        text = np.array2string(arr, precision=4, suppress_small=True, threshold=12,
                               edgeitems=2, separator=", ")
        return " ".join(text.split())
    if type(value) is float or isinstance(value, np.floating):
        return f"{float(value):.6g}"
    text = " ".join(repr(value).split())
    return text if len(text) <= 120 else text[:117] + "..."


def expect_array(got: Any, expected: np.ndarray, what: str, *, rtol: float = 1e-5,
                 atol: float = 1e-7, check_dtype: bool = True, kind: str = "wrong_value") -> None:
    """``got`` is an ndarray with ``expected``'s shape (and dtype), finite, and close to it."""
    if got is None:
        raise CheckFailure("no_return", f"{what} is None (did you forget `return`?)")
    if type(got) is not np.ndarray:
        raise CheckFailure("wrong_type", f"{what} should be a NumPy array, got {type_name(got)}")
    if got.shape != expected.shape:
        raise CheckFailure("wrong_shape", f"{what} has shape {got.shape}, expected "
                                          f"{expected.shape}")
    if check_dtype and got.dtype != expected.dtype:
        raise CheckFailure("wrong_dtype", f"{what} has dtype {got.dtype}, expected "
                                          f"{expected.dtype}")
    if got.dtype.kind in "fc" and not np.all(np.isfinite(got)):
        raise CheckFailure("not_finite", f"{what} contains NaN or inf: {fmt(got)}")
    if got.dtype.kind == "b" or expected.dtype.kind == "b":
        same = got.dtype == expected.dtype and bool(np.array_equal(got, expected))
    else:
        same = bool(np.allclose(got.astype(np.float64), expected.astype(np.float64),
                                rtol=rtol, atol=atol))
    if not same:
        diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
        raise CheckFailure(kind, f"{what} is {fmt(got)}, expected {fmt(expected)} (largest "
                                 f"difference {float(diff.max()) if diff.size else 0.0:.3g})")


def expect_number(got: Any, expected: float, what: str, *, rtol: float = 1e-5,
                  atol: float = 1e-7, kind: str = "wrong_value") -> float:
    """``got`` is one real number (int, float, NumPy scalar or 0-d array) close to ``expected``."""
    if got is None:
        raise CheckFailure("no_return", f"{what} is None (did you forget `return`?)")
    if type(got) is np.ndarray and got.ndim == 0 and got.dtype.kind in "iuf":
        got = got[()]
    if type(got) in (int, float) or (isinstance(got, np.generic) and got.dtype.kind in "iuf"):
        value = float(got)
    else:
        raise CheckFailure("wrong_type", f"{what} should be one number, got {type_name(got)}")
    if not np.isfinite(value):
        raise CheckFailure("not_finite", f"{what} is {value}")
    if not np.isclose(value, expected, rtol=rtol, atol=atol):
        raise CheckFailure(kind, f"{what} is {fmt(value)}, expected {fmt(expected)}")
    return value


def expect_equal(got: Any, expected: Any, what: str, *, kind: str = "wrong_value") -> None:
    """Exact equality of plain data, types included (an int is not a bool, a list not a tuple)."""
    if type(got) is not type(expected):
        raise CheckFailure("wrong_type" if kind == "wrong_value" else kind,
                           f"{what} is {fmt(got)} ({type_name(got)}), expected {fmt(expected)} "
                           f"({type_name(expected)})")
    if isinstance(expected, np.ndarray):
        if got.dtype != expected.dtype or got.shape != expected.shape or not np.array_equal(
                got, expected):
            raise CheckFailure(kind, f"{what} is {fmt(got)}, expected {fmt(expected)}")
        return
    if isinstance(expected, list | tuple):
        if len(got) != len(expected):
            raise CheckFailure(kind, f"{what} is {fmt(got)}, expected {fmt(expected)}")
        for index, (g, e) in enumerate(zip(got, expected, strict=True)):
            expect_equal(g, e, f"{what}[{index}]", kind=kind)
        return
    if isinstance(expected, dict):
        if sorted(got) != sorted(expected):
            raise CheckFailure(kind, f"{what} has the keys {sorted(got)}, expected "
                                     f"{sorted(expected)}")
        for key in expected:
            expect_equal(got[key], expected[key], f"{what}[{key!r}]", kind=kind)
        return
    if got != expected:
        raise CheckFailure(kind, f"{what} is {fmt(got)}, expected {fmt(expected)}")
