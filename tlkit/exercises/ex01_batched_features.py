"""Exercise 01.1: extract features in batches.

A pretrained model's features are computed once and cached. For a large dataset, pushing
every sample through the network at once needs a lot of memory, so we go in batches:
call the extractor on consecutive slices of ``X`` and stack the results.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tlkit.exercises.checking import as_array, expect_close, expect_dtype, expect_shape
from tlkit.exercises.registry import Case, CheckFailure, Exercise

FUNCTION_NAME = "extract_in_batches"


def extract_in_batches(extract_fn: Callable, X: np.ndarray, batch_size: int) -> np.ndarray:
    """Reference: ``extract_fn`` on slices ``X[i:i + batch_size]``, stacked as float32."""
    X = np.asarray(X)
    parts = [
        np.asarray(extract_fn(X[start:start + batch_size]), dtype=np.float32)
        for start in range(0, len(X), batch_size)
    ]
    return np.concatenate(parts, axis=0)


# --- a small deterministic "pretrained model" for the cases ----------------------------

def _make_extractor(in_shape: tuple[int, ...], n_features: int = 6, seed: int = 1,
                    dtype: type = np.float32) -> Callable:
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(int(np.prod(in_shape)), n_features)).astype(dtype)

    def extract(batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch)
        flat = batch.reshape(len(batch), -1).astype(dtype)
        return np.maximum(flat @ weights, 0).astype(dtype)

    return extract


def _data(n: int, in_shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, *in_shape)).astype(np.float32)


def _expect_same_as_all_at_once(fn: Callable, n: int, batch_size: int,
                                in_shape: tuple[int, ...] = (5,)) -> None:
    extract = _make_extractor(in_shape)
    X = _data(n, in_shape)
    out = fn(extract, X, batch_size)
    expected = extract(X)
    what = f"the result for N={n}, batch_size={batch_size}"
    arr = as_array(out, what)
    if arr.ndim == 1 or arr.shape[0] != n:
        raise CheckFailure(
            "wrong_rows", f"{what} has shape {arr.shape}, expected {expected.shape}"
        )
    expect_close(arr, expected, what, rtol=1e-5, atol=1e-6)


def _case_divisible(fn: Callable) -> None:
    _expect_same_as_all_at_once(fn, n=12, batch_size=4)


def _case_not_divisible(fn: Callable) -> None:
    # images (N, H, W): slicing must happen along the first axis only
    _expect_same_as_all_at_once(fn, n=10, batch_size=4, in_shape=(3, 3))


def _case_batch_larger_than_n(fn: Callable) -> None:
    _expect_same_as_all_at_once(fn, n=5, batch_size=64)


def _case_batch_size_one(fn: Callable) -> None:
    _expect_same_as_all_at_once(fn, n=7, batch_size=1)


def _case_single_sample(fn: Callable) -> None:
    _expect_same_as_all_at_once(fn, n=1, batch_size=8)


def _case_spy(fn: Callable) -> None:
    n, batch_size = 23, 5
    X = _data(n, (4,), seed=3)
    inner = _make_extractor((4,), seed=2)
    seen: list[np.ndarray] = []

    def spy(batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch)
        seen.append(batch.copy())
        return inner(batch)

    out = fn(spy, X, batch_size)
    sizes = [len(b) for b in seen]
    if not seen:
        raise CheckFailure("rows_missed", "extract_fn was never called")
    if max(sizes) > batch_size:
        raise CheckFailure(
            "batch_too_large",
            f"extract_fn received batches of {sizes} rows with batch_size={batch_size}",
        )
    if sum(sizes) != n or not np.array_equal(np.concatenate(seen), X):
        raise CheckFailure(
            "rows_missed",
            f"extract_fn saw {sum(sizes)} rows in batches of {sizes}; expected the {n} rows "
            f"of X, each exactly once and in order",
        )
    expect_close(as_array(out, "the result"), inner(X), "the result", rtol=1e-5, atol=1e-6)


def _case_float32(fn: Callable) -> None:
    extract = _make_extractor((5,), dtype=np.float64)
    X = _data(9, (5,)).astype(np.float64)
    arr = as_array(fn(extract, X, 4), "the result")
    expect_shape(arr, (9, 6), "the result")
    expect_dtype(arr, np.float32, "the result (extract_fn returned float64)")
    expect_close(arr, extract(X).astype(np.float32), "the result", rtol=1e-5, atol=1e-6)


EXERCISE = Exercise(
    id="01.1",
    title="Batched feature extraction",
    function_name=FUNCTION_NAME,
    reference=extract_in_batches,
    description=(
        "extract_in_batches(extract_fn, X, batch_size): call extract_fn on consecutive "
        "slices of X of at most batch_size rows and stack the results into one float32 "
        "array, equal to extract_fn(X)."
    ),
    cases=(
        Case("N divisible by batch_size", _case_divisible),
        Case("N not divisible by batch_size (images)", _case_not_divisible),
        Case("batch_size larger than N", _case_batch_larger_than_n),
        Case("batch_size of 1", _case_batch_size_one),
        Case("a single sample", _case_single_sample),
        Case("extract_fn never sees more than batch_size rows", _case_spy),
        Case("float32 output", _case_float32),
    ),
    hints={
        "default": "Loop `for start in range(0, len(X), batch_size)`, call "
        "`extract_fn(X[start:start + batch_size])`, collect the results in a list and "
        "stack them with `np.concatenate(parts, axis=0)`.",
        "wrong_rows": "Every row of X must give one row of features: check that the last, "
        "shorter batch is included (`range(0, len(X), batch_size)` does that).",
        "wrong_shape": "Stack the batches along the first axis: "
        "`np.concatenate(parts, axis=0)`, not `np.stack`.",
        "batch_too_large": "Slice X as `X[start:start + batch_size]`, so that no call sees "
        "more than batch_size rows.",
        "rows_missed": "Each row of X must go through extract_fn exactly once, in order: "
        "step the start index by batch_size.",
        "wrong_dtype": "Convert the stacked features with `.astype(np.float32)` (or each "
        "batch with `np.asarray(..., dtype=np.float32)`).",
        "wrong_type": "Return one NumPy array, not a list of batches.",
        "exception": "Read the error message; try your function on a tiny X, such as "
        "`np.zeros((3, 2))` with batch_size=2.",
    },
)
