"""Gradient checks (float64, central differences) for every layer and the loss, on both engines
(the ``nn`` fixture: ``tlkit.nn``, then ``tlkit.nn.fast``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlkit.nn import (
    ReLU,
    check_layer_gradients,
    numerical_gradient,
    softmax_cross_entropy,
)

TOL = 1e-5
FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_close(errors: dict[str, float], keys: set[str]) -> None:
    assert set(errors) == keys
    for key, err in errors.items():
        assert err < TOL, f"gradient of {key}: relative error {err:.2e}"


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values with no ties closer than 1e-2 (so max-pool windows have a clear winner)."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) * 0.05 - size * 0.025).astype(np.float64)


def test_numerical_gradient_of_known_function() -> None:
    x = np.array([1.0, -2.0, 0.5])
    grad = numerical_gradient(lambda z: float(np.sum(z**3)), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, -2.0, 0.5])  # restored


def test_gradcheck_detects_a_wrong_backward() -> None:
    class Broken(ReLU):
        def backward(self, grad_out, need_input_grad=True, need_param_grads=True):
            return 2.0 * super().backward(grad_out)

    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)) + np.sign(rng.standard_normal((3, 4)))
    assert check_layer_gradients(Broken(), x, rng)["x"] > 0.1


def test_dense(nn) -> None:
    rng = np.random.default_rng(1)
    errors = check_layer_gradients(nn.Dense(5, 3, rng), rng.standard_normal((4, 5)), rng)
    assert_close(errors, {"x", "W", "b"})


@pytest.mark.parametrize("kernel", [1, 3, 5])
@pytest.mark.parametrize("padding", ["same", "valid", 1])
def test_conv2d(nn, kernel: int, padding: str | int) -> None:
    rng = np.random.default_rng(kernel)
    layer = nn.Conv2D(2, 3, kernel_size=kernel, padding=padding, rng=rng)
    x = rng.standard_normal((2, 6, 5, 2))
    assert_close(check_layer_gradients(layer, x, rng), {"x", "W", "b"})


@pytest.mark.parametrize("size", [(1, 1), (2, 2), (3, 3), (2, 3)])
def test_conv2d_on_maps_no_larger_than_the_kernel(nn, size) -> None:
    """The small-map path (one GEMM with a block weight matrix), as in deep's 2x2 blocks."""
    rng = np.random.default_rng(11)
    layer = nn.Conv2D(3, 4, kernel_size=3, padding="same", rng=rng)
    x = rng.standard_normal((3, *size, 3))
    assert_close(check_layer_gradients(layer, x, rng), {"x", "W", "b"})


def test_conv2d_even_kernel_same_padding(nn) -> None:
    rng = np.random.default_rng(7)
    layer = nn.Conv2D(1, 2, kernel_size=2, padding="same", rng=rng)
    x = rng.standard_normal((2, 4, 3, 1))
    assert layer.forward(x).shape == (2, 4, 3, 2)
    assert_close(check_layer_gradients(layer, x, rng), {"x", "W", "b"})


@FAST
@given(
    n=st.integers(1, 3), h=st.integers(1, 6), w=st.integers(1, 6), cin=st.integers(1, 3),
    cout=st.integers(1, 3), kernel=st.sampled_from([1, 3]),
    padding=st.sampled_from(["same", "valid"]), seed=st.integers(0, 2**16),
)
def test_conv2d_random_shapes(nn, n, h, w, cin, cout, kernel, padding, seed) -> None:
    if padding == "valid" and (h < kernel or w < kernel):
        return
    rng = np.random.default_rng(seed)
    layer = nn.Conv2D(cin, cout, kernel_size=kernel, padding=padding, rng=rng)
    x = rng.standard_normal((n, h, w, cin))
    assert_close(check_layer_gradients(layer, x, rng), {"x", "W", "b"})


@pytest.mark.parametrize("pool", [2, 3])
@pytest.mark.parametrize("shape", [(2, 4, 4, 3), (2, 5, 7, 2), (1, 3, 3, 1)])
def test_maxpool_distinct_values(nn, pool: int, shape: tuple[int, ...]) -> None:
    if shape[1] < pool or shape[2] < pool:
        pytest.skip("input smaller than the window")
    rng = np.random.default_rng(3)
    errors = check_layer_gradients(nn.MaxPool2D(pool), distinct(rng, shape), rng)
    assert_close(errors, {"x"})


@pytest.mark.parametrize("kind", ["constant", "binary", "small_ints"])
@pytest.mark.parametrize("shape", [(2, 4, 4, 2), (1, 5, 7, 3)])
def test_maxpool_ties_match_tie_broken_numerical_gradient(nn, kind: str, shape) -> None:
    """With ties the gradient goes to the FIRST maximum of each window.

    Lowering every element by a tiny ramp that grows in row-major window order
    makes that first maximum the unique maximum without changing anything else,
    so the numerical gradient there must equal the analytic gradient at the tie.
    """
    rng = np.random.default_rng(4)
    x = {
        "constant": np.full(shape, 0.5),
        "binary": rng.integers(0, 2, shape).astype(np.float64),
        "small_ints": rng.integers(0, 3, shape).astype(np.float64),
    }[kind]
    layer = nn.MaxPool2D(2)
    upstream = rng.standard_normal(layer.forward(x).shape)
    analytic = layer.backward(upstream)

    ramp = np.zeros(shape)
    ramp[:, 0::2, 1::2] = 1
    ramp[:, 1::2, 0::2] = 2
    ramp[:, 1::2, 1::2] = 3
    x_broken = x - 1e-3 * ramp
    numeric = numerical_gradient(lambda z: np.sum(layer.forward(z) * upstream), x_broken)
    np.testing.assert_allclose(analytic, numeric, atol=1e-7)
    # every window passes its gradient on exactly once (a mask would double count)
    np.testing.assert_allclose(analytic.sum(), upstream.sum())


@FAST
@given(
    n=st.integers(1, 3), h=st.integers(2, 7), w=st.integers(2, 7), c=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_maxpool_random_shapes(nn, n, h, w, c, seed) -> None:
    rng = np.random.default_rng(seed)
    errors = check_layer_gradients(nn.MaxPool2D(2), distinct(rng, (n, h, w, c)), rng)
    assert_close(errors, {"x"})


def test_global_avg_pool_and_flatten(nn) -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 5, 4))
    assert_close(check_layer_gradients(nn.GlobalAvgPool2D(), x, rng), {"x"})
    assert_close(check_layer_gradients(nn.Flatten(), x, rng), {"x"})


def test_relu_away_from_zero(nn) -> None:
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 6))
    x += np.where(x >= 0, 0.1, -0.1)  # no entry within 0.1 of the kink
    assert_close(check_layer_gradients(nn.ReLU(), x, rng), {"x"})


@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 4, 3), (1, 3)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm(nn, shape: tuple[int, ...], training: bool) -> None:
    rng = np.random.default_rng(8)
    layer = nn.BatchNorm(3)
    layer.params["gamma"][:] = rng.uniform(0.5, 2.0, 3)
    layer.params["beta"][:] = rng.standard_normal(3)
    layer.buffers["running_mean"][:] = rng.standard_normal(3)
    layer.buffers["running_var"][:] = rng.uniform(0.5, 2.0, 3)
    x = 2.0 * rng.standard_normal(shape) + 1.0
    if training and shape[0] == 1 and len(shape) == 2:
        # one sample per feature: output is beta whatever x is, so dx == 0 and dgamma == 0
        layer.forward(x, training=True)
        dx = layer.backward(rng.standard_normal(shape))
        assert np.all(np.isfinite(dx)) and np.allclose(dx, 0.0)
        return
    errors = check_layer_gradients(layer, x, rng, training=training)
    assert_close(errors, {"x", "gamma", "beta"})


@FAST
@given(n=st.integers(3, 5), c=st.integers(1, 4), spatial=st.booleans(), seed=st.integers(0, 99))
def test_batchnorm_random_shapes(nn, n, c, spatial, seed) -> None:
    # (with n == 2 and no spatial axes x_hat is +-1 whatever x is: a degenerate check)
    rng = np.random.default_rng(seed)
    shape = (n, 2, 3, c) if spatial else (n, c)
    errors = check_layer_gradients(nn.BatchNorm(c), rng.standard_normal(shape), rng)
    assert_close(errors, {"x", "gamma", "beta"})


def test_dropout_with_fixed_mask(nn) -> None:
    rng = np.random.default_rng(9)
    layer = nn.Dropout(0.4, rng=np.random.default_rng(123))
    assert_close(check_layer_gradients(layer, rng.standard_normal((5, 7)), rng), {"x"})


def test_softmax_cross_entropy_gradient() -> None:
    rng = np.random.default_rng(10)
    logits = 3.0 * rng.standard_normal((5, 4))
    labels = rng.integers(0, 4, 5)
    _, grad = softmax_cross_entropy(logits, labels)
    numeric = numerical_gradient(lambda z: softmax_cross_entropy(z, labels)[0], logits.copy())
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


@FAST
@given(n=st.integers(1, 6), k=st.integers(2, 6), scale=st.sampled_from([0.1, 1.0, 30.0]),
       seed=st.integers(0, 999))
def test_softmax_cross_entropy_gradient_random(n, k, scale, seed) -> None:
    rng = np.random.default_rng(seed)
    logits = scale * rng.standard_normal((n, k))
    labels = rng.integers(0, k, n)
    _, grad = softmax_cross_entropy(logits, labels)
    numeric = numerical_gradient(lambda z: softmax_cross_entropy(z, labels)[0], logits.copy())
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
