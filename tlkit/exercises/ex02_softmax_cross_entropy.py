"""Exercise 02.1: softmax cross-entropy and its gradient, the loss of the new head.

For logits ``z`` (N, C) and integer labels ``y`` (N,)::

    p = softmax(z)                      row by row
    loss = mean_i( -log p[i, y_i] )
    dloss/dz = (p - onehot(y)) / N
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tlkit.exercises.compare import expect_array, expect_number, fmt, type_name
from tlkit.exercises.registry import Case, CheckFailure, Exercise


def apply(fn: Callable, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"result": fn(inputs["logits"], inputs["labels"])}


def compare(case: Case, expected: dict, got: dict) -> None:
    logits = case.inputs["logits"]
    n = logits.shape[0]
    result = got["result"]
    if type(result) not in (tuple, list) or len(result) != 2:
        raise CheckFailure("no_return" if result is None else "wrong_type",
                           f"the function should return a pair (loss, grad_logits), got "
                           f"{type_name(result)}")
    loss, grad = result
    want_loss, want_grad = expected["result"]
    if type(loss) is np.ndarray and loss.ndim >= 1 and loss.size > 1:
        raise CheckFailure("not_mean", f"the loss should be one number, got an array of "
                                       f"shape {loss.shape}")
    if type(loss) is np.ndarray and loss.size == 1:
        loss = loss.reshape(())
    float32 = logits.dtype == np.float32
    rtol = 1e-4 if float32 else 1e-6
    try:
        expect_number(loss, want_loss, "the loss", rtol=rtol, atol=1e-6, kind="wrong_loss")
    except CheckFailure as failure:
        if failure.kind == "wrong_loss" and n > 1 and np.isclose(float(loss), want_loss * n,
                                                                 rtol=1e-4):
            raise CheckFailure("not_mean", failure.message) from None
        raise
    if type(grad) is np.ndarray and grad.shape == want_grad.shape and grad.dtype.kind == "f":
        if np.all(np.isfinite(grad)) and not np.allclose(grad.sum(axis=-1), 0.0, atol=1e-5):
            raise CheckFailure("rows_not_zero", f"the rows of grad_logits sum to "
                                                f"{fmt(grad.sum(axis=-1))}, expected 0 in "
                                                f"every row")
        # the mistake diagnoses below only apply to a wrong answer: a right gradient that is
        # almost 0 (huge logits) is also "close" to -want_grad and to want_grad * n
        right = np.allclose(grad, want_grad, rtol=rtol, atol=1e-6 if float32 else 1e-8)
        if not right and n > 1 and np.allclose(grad, want_grad * n, rtol=1e-4, atol=1e-6):
            raise CheckFailure("grad_not_divided", f"grad_logits is {fmt(grad)}, expected "
                                                   f"{fmt(want_grad)}")
        if not right and np.allclose(grad, -want_grad, rtol=1e-4, atol=1e-6) and np.any(want_grad):
            raise CheckFailure("grad_sign", f"grad_logits is {fmt(grad)}, expected "
                                            f"{fmt(want_grad)}")
    expect_array(grad, want_grad, "grad_logits", rtol=rtol, atol=1e-6 if float32 else 1e-8,
                 kind="wrong_gradient")


def _case(name: str, logits: np.ndarray, labels: list[int], hidden: bool = False) -> Case:
    return Case(name, {"logits": logits, "labels": np.asarray(labels, dtype=np.int64)}, hidden)


PUBLIC_CASES = (
    # row 1: p = [1/2, 1/2], label 0 -> ln 2; row 2: p = [3/4, 1/4], label 1 -> ln 4
    _case("a small hand-computed example", np.array([[0.0, 0.0], [np.log(3.0), 0.0]]), [0, 1]),
    _case("huge logits (1e4) stay finite", np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]]),
          [0, 2]),
    _case("a single sample", np.array([[0.5, -1.0, 2.0, 0.0]]), [3]),
    _case("five samples, three classes", np.random.default_rng(7).normal(size=(5, 3)),
          [0, 2, 1, 1, 0]),
    _case("every row of the gradient sums to 0",
          np.array([[2.0, 1.0, 0.1, -1.0], [0.0, 0.0, 0.0, 0.0], [-3.0, 5.0, 1.0, 2.0]]),
          [1, 3, 1]),
    _case("float32 logits give a float32 gradient",
          np.random.default_rng(3).normal(scale=3.0, size=(4, 5)).astype(np.float32),
          [4, 0, 2, 2]),
)


EXERCISE = Exercise(
    id="02.1",
    part=2,
    title="Softmax cross-entropy and its gradient",
    name="softmax_cross_entropy",
    points=10.0,
    description=(
        "softmax_cross_entropy(logits, labels) -> (loss, grad_logits): the mean "
        "cross-entropy of softmax(logits) against integer labels, and its gradient with "
        "respect to the logits, (softmax - onehot) / N, with the dtype of the logits."
    ),
    public_cases=PUBLIC_CASES,
    apply=apply,
    compare=compare,
    hints={
        "default": "Compute p = softmax(logits) row by row, the loss as the mean of "
        "-log p[i, labels[i]], and the gradient as (p - onehot(labels)) / N.",
        "wrong_loss": "The loss of a row is -log of the probability of its true label: "
        "`-log_probs[np.arange(N), labels]`, then take the mean.",
        "not_mean": "Average the per-sample losses with `.mean()`, not `.sum()`, and return "
        "one number.",
        "wrong_gradient": "The gradient is (softmax(logits) - onehot(labels)) / N: subtract 1 "
        "at each row's true label, and divide by N because the loss is a mean.",
        "grad_not_divided": "The loss is a mean over the N rows, so its gradient is divided "
        "by N too: `(p - onehot) / N`.",
        "grad_sign": "The sign is flipped: the gradient is p - onehot (the probabilities "
        "minus 1 at the true label), not onehot - p.",
        "rows_not_zero": "Normalise each row of exp(logits) by its own sum "
        "(`sum(axis=1, keepdims=True)`), so every row of softmax sums to 1.",
        "not_finite": "Subtract each row's maximum from the logits before `np.exp` "
        "(`logits - logits.max(axis=1, keepdims=True)`): softmax does not change, and "
        "exp no longer overflows.",
        "wrong_dtype": "Return the gradient in the dtype of the logits, "
        "e.g. `grad.astype(logits.dtype)`.",
        "wrong_shape": "grad_logits has the shape of logits, (N, C).",
        "wrong_type": "Return a pair: `return loss, grad_logits`, the loss as one number.",
        "exception": "Read the error message; try your function on "
        "`np.array([[0.0, 0.0]])` with labels `np.array([0])` (loss ln 2 = 0.693).",
    },
    library_names=(
        "tlkit.nn.losses",
        "tlkit.nn.losses.softmax_cross_entropy",
        "tlkit.nn.losses.log_softmax",
    ),
    fallback="tlkit.nn.losses.softmax_cross_entropy",
)
