"""softmax, log_softmax and the softmax cross-entropy loss."""

from __future__ import annotations

import numpy as np
import pytest

from tlkit.nn import log_softmax, one_hot, softmax, softmax_cross_entropy


def test_softmax_rows_sum_to_one_and_are_stable() -> None:
    logits = np.array([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]], np.float32)
    p = softmax(logits)
    assert p.dtype == np.float32 and np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(p[0], [1, 0, 0])
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(p[1], e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(log_softmax(logits)[1], np.log(e / e.sum()), rtol=1e-6)
    assert np.isfinite(log_softmax(logits)).all()
    np.testing.assert_allclose(log_softmax(logits)[0], [0, -1e4, -2e4])


def test_cross_entropy_value_and_gradient() -> None:
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]], np.float32)
    labels = np.array([0, 2])
    loss, grad = softmax_cross_entropy(logits, labels)
    assert isinstance(loss, float)
    p = softmax(logits.astype(np.float64))
    expected = -np.mean(np.log(p[[0, 1], labels]))
    assert loss == pytest.approx(expected, rel=1e-6)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, (p - np.eye(3)[labels]) / 2, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_stable_for_huge_logits(dtype) -> None:
    logits = np.array([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4]], dtype)
    loss, grad = softmax_cross_entropy(logits, np.array([1, 0]))
    assert np.isfinite(loss) and np.all(np.isfinite(grad)) and grad.dtype == dtype
    # row 0: -log p[1] = 2e4; row 1: -log(1/2)
    assert loss == pytest.approx((2e4 + np.log(2)) / 2, rel=1e-6)
    np.testing.assert_allclose(grad[0], [0.5, -0.5, 0.0], atol=1e-6)
    np.testing.assert_allclose(grad[1], [-0.25, 0.25, 0.0], atol=1e-6)


def test_perfect_prediction_has_zero_loss() -> None:
    loss, grad = softmax_cross_entropy(np.array([[50.0, 0.0]], np.float32), np.array([0]))
    assert loss == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(grad, 0, atol=1e-6)


def test_one_hot_is_float32() -> None:
    y = one_hot(np.array([2, 0]), 3)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, [[0, 0, 1], [1, 0, 0]])


def test_cross_entropy_rejects_bad_input() -> None:
    logits = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="labels"):
        softmax_cross_entropy(logits, np.array([0, 3]))
    with pytest.raises(ValueError, match="labels"):
        softmax_cross_entropy(logits, np.array([0, -1]))
    with pytest.raises(ValueError, match="labels"):
        softmax_cross_entropy(logits, np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="labels"):
        softmax_cross_entropy(logits, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="logits"):
        softmax_cross_entropy(np.zeros(3, np.float32), np.array([0]))
