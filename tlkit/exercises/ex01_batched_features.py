"""Exercise 01.1: extract features in batches.

A pretrained model's features are computed once and cached. For a large dataset, pushing
every sample through the network at once needs a lot of memory, so we go in batches:
call the extractor on consecutive slices of ``X`` and stack the results.

A case's inputs hold ``X``, ``batch_size`` and the weights of a small ReLU "extractor";
``apply`` builds the extractor, wraps it in a spy that records the rows of every call, and
returns the student's result with what the spy saw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tlkit.exercises.compare import expect_array, type_name
from tlkit.exercises.registry import Case, CheckFailure, Exercise


def make_extractor(weights: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """A tiny stand-in for ``PretrainedModel.extract_features``: relu(flatten(x) @ weights)."""

    def extract(batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch)
        flat = batch.reshape(len(batch), -1).astype(weights.dtype)
        return np.maximum(flat @ weights, 0)

    return extract


def apply(fn: Callable, inputs: dict[str, Any]) -> dict[str, Any]:
    X, batch_size = inputs["X"], inputs["batch_size"]
    inner = make_extractor(inputs["weights"])
    seen: list[np.ndarray] = []

    def spy(batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch)
        seen.append(batch.copy())
        return inner(batch)

    result = fn(spy, X, batch_size)
    try:
        in_order = bool(seen) and bool(np.array_equal(np.concatenate(seen), X))
    except ValueError:
        in_order = False
    return {"result": result, "batch_rows": [int(len(b)) for b in seen], "rows_in_order": in_order}


def compare(case: Case, expected: dict, got: dict) -> None:
    n, batch_size = len(case.inputs["X"]), case.inputs["batch_size"]
    result, want = got["result"], expected["result"]
    what = f"the result for N={n}, batch_size={batch_size}"
    if type(result) in (list, tuple) and result and all(
            type(part) is np.ndarray for part in result):
        raise CheckFailure(
            "list_of_batches",
            f"{what} is a {type(result).__name__} of {len(result)} arrays (one per batch), "
            f"expected one array of shape {want.shape}",
        )
    if type(result) is np.ndarray and result.shape != want.shape:
        n_batches = -(-n // batch_size)
        if result.ndim == 3 and result.shape[0] == n_batches:
            kind = "stacked"
        elif result.ndim >= 1 and n % batch_size and result.shape[0] == n - n % batch_size:
            kind = "last_batch"
        else:
            kind = "wrong_shape"
        raise CheckFailure(kind, f"{what} has shape {result.shape}, expected {want.shape}")
    rows = got["batch_rows"]
    if not rows:
        raise CheckFailure("rows_missed", "extract_fn was never called")
    if max(rows) > batch_size:
        raise CheckFailure("batch_too_large", f"extract_fn received batches of {rows} rows "
                                              f"with batch_size={batch_size}")
    if sum(rows) != n or not got["rows_in_order"]:
        raise CheckFailure("rows_missed", f"extract_fn saw {sum(rows)} rows in batches of "
                                          f"{rows}; expected the {n} rows of X, each exactly "
                                          f"once and in order")
    if result is None:
        raise CheckFailure("no_return", f"{what} is None (did you forget `return`?)")
    if type(result) is not np.ndarray:
        raise CheckFailure("wrong_type", f"{what} should be one NumPy array, got "
                                         f"{type_name(result)}")
    expect_array(result, want, what, rtol=1e-5, atol=1e-6)


# --- cases ------------------------------------------------------------------------------------

def _case(name: str, n: int, batch_size: int, in_shape: tuple[int, ...], seed: int,
          dtype: type = np.float32, n_features: int = 6, hidden: bool = False) -> Case:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, *in_shape)).astype(dtype)
    weights = rng.normal(size=(int(np.prod(in_shape)), n_features)).astype(dtype)
    return Case(name, {"X": X, "batch_size": int(batch_size), "weights": weights}, hidden)


PUBLIC_CASES = (
    _case("N divisible by batch_size", 12, 4, (5,), 0),
    _case("N not divisible by batch_size (images)", 10, 4, (3, 3), 1),
    _case("batch_size larger than N", 5, 64, (5,), 2),
    _case("batch_size of 1", 7, 1, (5,), 3),
    _case("a single sample", 1, 8, (5,), 4),
    _case("23 rows in batches of 5", 23, 5, (4,), 5),
    _case("float32 output from a float64 extractor", 9, 4, (5,), 6, dtype=np.float64),
)


EXERCISE = Exercise(
    id="01.1",
    part=1,
    title="Batched feature extraction",
    name="extract_in_batches",
    points=10.0,
    description=(
        "extract_in_batches(extract_fn, X, batch_size): call extract_fn on consecutive "
        "slices of X of at most batch_size rows and stack the results into one float32 "
        "array, equal to extract_fn(X)."
    ),
    public_cases=PUBLIC_CASES,
    apply=apply,
    compare=compare,
    hints={
        "default": "Loop `for start in range(0, len(X), batch_size)`, call "
        "`extract_fn(X[start:start + batch_size])`, collect the results in a list and "
        "stack them with `np.concatenate(parts, axis=0)`.",
        "list_of_batches": "You return the list of per-batch results: join them into one "
        "array with `np.concatenate(parts, axis=0)` before returning.",
        "stacked": "`np.stack` adds a new axis (one per batch) and needs equal batches: "
        "use `np.concatenate(parts, axis=0)` to put the rows one after the other.",
        "last_batch": "The last, shorter batch is missing: `range(0, len(X), batch_size)` "
        "visits it, and `X[start:start + batch_size]` stops at the end of X by itself.",
        "wrong_shape": "Every row of X gives one row of features: stack the batches along "
        "the first axis with `np.concatenate(parts, axis=0)`.",
        "batch_too_large": "Slice X as `X[start:start + batch_size]`, so that no call sees "
        "more than batch_size rows.",
        "rows_missed": "Each row of X must go through extract_fn exactly once, in order: "
        "step the start index by batch_size.",
        "wrong_dtype": "Convert the stacked features with `.astype(np.float32)` (or each "
        "batch with `np.asarray(..., dtype=np.float32)`).",
        "wrong_type": "Return one NumPy array (the stacked features).",
        "exception": "Read the error message; try your function on a tiny X, such as "
        "`np.zeros((3, 2))` with batch_size=2.",
    },
    library_names=(
        "tlkit.pretrained.PretrainedModel.extract_features",
        "tlkit.pretrained.PretrainedModel.features_of_batch",
        "tlkit.training.predict_logits",
        "tlkit.nn.network.Network.infer",
    ),
)
