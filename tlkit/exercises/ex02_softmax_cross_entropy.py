"""Exercise 02.1: softmax cross-entropy and its gradient, the loss of the new head.

For logits ``z`` (N, C) and integer labels ``y`` (N,)::

    p = softmax(z)                      row by row
    loss = mean_i( -log p[i, y_i] )
    dloss/dz = (p - onehot(y)) / N
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tlkit.exercises.checking import as_array, expect_close, expect_dtype, fmt
from tlkit.exercises.registry import Case, CheckFailure, Exercise

FUNCTION_NAME = "softmax_cross_entropy"


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Reference: mean cross-entropy of softmax(logits) and its gradient w.r.t. the logits."""
    logits = np.asarray(logits)
    labels = np.asarray(labels)
    n = logits.shape[0]
    rows = np.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)  # the largest logit becomes 0
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, labels].mean()
    grad = np.exp(log_probs)
    grad[rows, labels] -= 1.0
    grad /= n
    return float(loss), grad.astype(logits.dtype, copy=False)


def _call(fn: Callable, logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    out = fn(logits.copy(), labels.copy())
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        got = "None" if out is None else type(out).__name__
        raise CheckFailure(
            "no_return" if out is None else "wrong_type",
            f"the function should return a pair (loss, grad_logits), got {got}",
        )
    loss, grad = out
    loss_arr = as_array(loss, "the loss")
    if loss_arr.ndim != 0 and loss_arr.size != 1:
        raise CheckFailure(
            "not_mean", f"the loss should be one number, got an array of shape {loss_arr.shape}"
        )
    loss_value = float(loss_arr.reshape(()))
    if not np.isfinite(loss_value):
        raise CheckFailure("not_finite", f"the loss is {loss_value}")
    return loss_value, as_array(grad, "grad_logits")


def _expect_loss(actual: float, expected: float, n: int, rtol: float = 1e-5) -> None:
    if not np.isclose(actual, expected, rtol=rtol, atol=1e-6):
        summed = n > 1 and np.isclose(actual, expected * n, rtol=1e-4)
        raise CheckFailure(
            "not_mean" if summed else "wrong_loss",
            f"the loss is {fmt(actual)}, expected {fmt(expected)}",
        )


def _compare(fn: Callable, logits: np.ndarray, labels: np.ndarray, *, rtol: float = 1e-5,
             atol: float = 1e-7) -> tuple[float, np.ndarray]:
    loss, grad = _call(fn, logits, labels)
    ref_loss, ref_grad = softmax_cross_entropy(logits, labels)
    _expect_loss(loss, ref_loss, len(labels), rtol=max(rtol, 1e-6))
    expect_close(grad, ref_grad, "grad_logits", rtol=rtol, atol=atol, kind="wrong_gradient")
    return loss, grad


def _case_hand_computed(fn: Callable) -> None:
    # row 1: p = [1/2, 1/2], label 0 -> -log(1/2) = ln 2
    # row 2: p = [3/4, 1/4], label 1 -> -log(1/4) = ln 4;   mean = 1.5 ln 2
    logits = np.array([[0.0, 0.0], [np.log(3.0), 0.0]])
    labels = np.array([0, 1])
    loss, grad = _call(fn, logits, labels)
    _expect_loss(loss, 1.5 * np.log(2.0), 2)
    expected = np.array([[-0.25, 0.25], [0.375, -0.375]])  # (p - onehot) / N with N = 2
    expect_close(grad, expected, "grad_logits", rtol=1e-6, atol=1e-9, kind="wrong_gradient")


def _case_huge_logits(fn: Callable) -> None:
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]])
    labels = np.array([0, 2])
    loss, grad = _call(fn, logits, labels)
    if not np.all(np.isfinite(grad)):
        raise CheckFailure("not_finite", f"grad_logits contains NaN or inf: {fmt(grad)}")
    _compare(fn, logits, labels)


def _case_single_sample(fn: Callable) -> None:
    logits = np.array([[0.5, -1.0, 2.0, 0.0]])
    _compare(fn, logits, np.array([3]))


def _case_numerical_gradient(fn: Callable) -> None:
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    _, grad = _call(fn, logits, labels)
    eps = 1e-6
    numeric = np.zeros_like(logits)
    for index in np.ndindex(logits.shape):
        plus, minus = logits.copy(), logits.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric[index] = (_call(fn, plus, labels)[0] - _call(fn, minus, labels)[0]) / (2 * eps)
    expect_close(grad, numeric, "grad_logits (compared with a numerical gradient of your loss)",
                 rtol=1e-4, atol=1e-6, kind="wrong_gradient")
    _compare(fn, logits, labels)


def _case_rows_sum_to_zero(fn: Callable) -> None:
    # softmax rows sum to 1, so every row of (p - onehot) / N sums to 0
    logits = np.array([[2.0, 1.0, 0.1, -1.0], [0.0, 0.0, 0.0, 0.0], [-3.0, 5.0, 1.0, 2.0]])
    labels = np.array([1, 3, 1])
    _, grad = _call(fn, logits, labels)
    sums = grad.sum(axis=1) if grad.ndim == 2 else grad
    if grad.shape != logits.shape or not np.allclose(sums, 0.0, atol=1e-7):
        raise CheckFailure(
            "rows_not_zero",
            f"the rows of grad_logits sum to {fmt(sums)}, expected 0 in every row",
        )
    _compare(fn, logits, labels)


def _case_float32(fn: Callable) -> None:
    logits = np.random.default_rng(3).normal(scale=3.0, size=(4, 5)).astype(np.float32)
    labels = np.array([4, 0, 2, 2])
    _, grad = _call(fn, logits, labels)
    expect_dtype(grad, np.float32, "grad_logits for float32 logits")
    _compare(fn, logits, labels, rtol=1e-4, atol=1e-6)


EXERCISE = Exercise(
    id="02.1",
    title="Softmax cross-entropy and its gradient",
    function_name=FUNCTION_NAME,
    reference=softmax_cross_entropy,
    description=(
        "softmax_cross_entropy(logits, labels) -> (loss, grad_logits): the mean "
        "cross-entropy of softmax(logits) against integer labels, and its gradient with "
        "respect to the logits, (softmax - onehot) / N, with the dtype of the logits."
    ),
    cases=(
        Case("a small hand-computed example", _case_hand_computed),
        Case("huge logits (1e4) stay finite", _case_huge_logits),
        Case("a single sample", _case_single_sample),
        Case("the gradient matches a numerical gradient", _case_numerical_gradient),
        Case("every row of the gradient sums to 0", _case_rows_sum_to_zero),
        Case("float32 logits give a float32 gradient", _case_float32),
    ),
    hints={
        "default": "Compute p = softmax(logits) row by row, the loss as the mean of "
        "-log p[i, labels[i]], and the gradient as (p - onehot(labels)) / N.",
        "wrong_loss": "The loss of a row is -log of the probability of its true label: "
        "`-log_probs[np.arange(N), labels]`, then take the mean.",
        "not_mean": "Average the per-sample losses with `.mean()`, not `.sum()`.",
        "wrong_gradient": "The gradient is (softmax(logits) - onehot(labels)) / N: subtract 1 "
        "at each row's true label, and divide by N because the loss is a mean.",
        "rows_not_zero": "Normalise each row of exp(logits) by its own sum "
        "(`sum(axis=1, keepdims=True)`), so every row of softmax sums to 1.",
        "not_finite": "Subtract each row's maximum from the logits before `np.exp` "
        "(`logits - logits.max(axis=1, keepdims=True)`): softmax does not change, and "
        "exp no longer overflows.",
        "wrong_dtype": "Return the gradient in the dtype of the logits, "
        "e.g. `grad.astype(logits.dtype)`.",
        "wrong_shape": "grad_logits has the shape of logits, (N, C).",
        "wrong_type": "Return a pair: `return loss, grad_logits`.",
        "exception": "Read the error message; try your function on "
        "`np.array([[0.0, 0.0]])` with labels `np.array([0])` (loss ln 2 = 0.693).",
    },
)
