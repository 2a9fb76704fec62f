"""Winograd's F(4x4, 3x3) (tlkit/nn/fast/winograd.py), checked against the definition of a
correlation computed directly in float64, not against the code's own formulas."""

from __future__ import annotations

import numpy as np
import pytest
from reference_layers import naive_conv

from tlkit.nn import fast
from tlkit.nn.fast import winograd


def correlate_same(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The 3x3 'same' correlation by its definition (one pixel of zero padding), in float64, no bias."""
    return naive_conv(x, w, np.zeros(w.shape[3]), (1, 1, 1, 1))


@pytest.mark.parametrize("points", [winograd.POINTS, (0.0, 1.0, -1.0, 2.0, -2.0)])
def test_one_dimensional_identity_gives_the_correlation(points) -> None:
    """A^T [(G g) * (B^T d)] = the 4 outputs of correlating 6 inputs with 3 taps, for any d and g."""
    at, g_mat, bt = winograd.toom_cook(points)
    rng = np.random.default_rng(0)
    for _ in range(5):
        d, g = rng.standard_normal(6), rng.standard_normal(3)
        direct = np.array([d[j:j + 3] @ g for j in range(4)])
        np.testing.assert_allclose(at @ ((g_mat @ g) * (bt @ d)), direct, rtol=1e-10, atol=1e-12)


def test_toom_cook_rejects_the_wrong_number_of_points() -> None:
    with pytest.raises(ValueError, match="needs 5 finite points, got 3"):
        winograd.toom_cook((0.0, 1.0, -1.0))


def test_the_layer_on_4x4_maps_computes_the_correlation_and_its_gradients() -> None:
    """In float64 the Winograd path matches the direct sum to ~1e-12: no tap, sign or padding is off."""
    rng = np.random.default_rng(1)
    conv = fast.Conv2D(8, 5, rng=rng)
    w = rng.standard_normal((3, 3, 8, 5))
    b = rng.standard_normal(5)
    conv.params["W"], conv.params["b"] = w, b
    conv.grads["W"], conv.grads["b"] = np.zeros_like(w), np.zeros_like(b)
    x = rng.standard_normal((3, 4, 4, 8))
    y = conv.forward(x, training=True)
    assert conv._v is not None, "a 4x4 map with 8 channels should take the Winograd path"
    np.testing.assert_allclose(y, correlate_same(x, w) + b, rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(y.shape)
    dx = conv.backward(g)
    # Gradients of sum(g * y): by linearity, dW[a, b] = sum of x-windows times g, db = sum of g,
    # and dx is the correlation of g with the flipped, transposed kernel.
    padded = np.zeros((3, 6, 6, 8))
    padded[:, 1:-1, 1:-1] = x
    dw = np.stack([np.stack([np.einsum("nijc,nijo->co", padded[:, a:a + 4, bb:bb + 4], g)
                             for bb in range(3)]) for a in range(3)])
    np.testing.assert_allclose(conv.grads["W"], dw, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(conv.grads["b"], g.sum(axis=(0, 1, 2)), rtol=1e-12)
    flipped = w[::-1, ::-1].transpose(0, 1, 3, 2)
    np.testing.assert_allclose(dx, correlate_same(g, flipped), rtol=1e-10, atol=1e-10)


def test_float32_rounding_stays_within_a_few_millionths_of_the_scale() -> None:
    """The reason for the chosen points: float32 results within 5e-6 of the output's scale."""
    rng = np.random.default_rng(2)
    conv = fast.Conv2D(64, 64, rng=rng)
    x = rng.standard_normal((32, 4, 4, 64)).astype(np.float32)
    y = conv.forward(x)
    exact = correlate_same(x.astype(np.float64), conv.params["W"].astype(np.float64))
    assert np.abs(y - exact).max() <= 5e-6 * np.abs(exact).max()


def test_a_frozen_layer_reuses_no_stale_filter() -> None:
    """The transformed filter follows in-place updates of W (the optimizer changes W in place)."""
    rng = np.random.default_rng(3)
    conv = fast.Conv2D(8, 4, rng=rng)
    x = rng.standard_normal((2, 4, 4, 8)).astype(np.float32)
    conv.forward(x)
    conv.params["W"] *= -2.0
    expected = correlate_same(x.astype(np.float64), conv.params["W"].astype(np.float64))
    np.testing.assert_allclose(conv.forward(x), expected, rtol=0, atol=1e-5 * np.abs(expected).max())
