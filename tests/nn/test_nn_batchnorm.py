"""BatchNorm against a plain float64 reference: training and inference, running statistics, flags."""

from __future__ import annotations

import numpy as np
import pytest

from tlkit.nn import BatchNorm, fast

EPS = 1e-5
SHAPES = [(6, 3), (1, 5), (64, 128), (4, 3, 2, 7), (5, 3, 3, 4), (16, 4, 4, 32), (8, 8, 8, 16)]


def reference(x, g, gamma, beta, mean=None, var=None):
    """out, dx, dgamma, dbeta in float64; batch statistics unless (mean, var) are given."""
    c = x.shape[-1]
    x, g = x.reshape(-1, c).astype(np.float64), g.reshape(-1, c).astype(np.float64)
    gamma, beta = gamma.astype(np.float64), beta.astype(np.float64)
    batch_stats = mean is None
    if batch_stats:
        mean, var = x.mean(axis=0), x.var(axis=0)
    inv_std = 1.0 / np.sqrt(np.asarray(var, np.float64) + EPS)
    x_hat = (x - mean) * inv_std
    out = gamma * x_hat + beta
    dbeta = g.sum(axis=0)
    dgamma = (g * x_hat).sum(axis=0)
    if batch_stats:
        m = x.shape[0]
        dx = gamma * inv_std / m * (m * g - dbeta - x_hat * dgamma)
    else:
        dx = g * gamma * inv_std
    return out, dx, dgamma, dbeta


def make_layer(nn, c: int, rng: np.random.Generator, momentum: float = 0.1) -> BatchNorm:
    layer = nn.BatchNorm(c, momentum=momentum)
    layer.params["gamma"][:] = rng.uniform(0.5, 2.0, c)
    layer.params["beta"][:] = rng.standard_normal(c)
    layer.buffers["running_mean"][:] = rng.standard_normal(c)
    layer.buffers["running_var"][:] = rng.uniform(0.5, 2.0, c)
    return layer


def random_input(shape, rng, offset=0.0):
    c = shape[-1]
    x = rng.standard_normal(shape) * rng.uniform(0.5, 3.0, c) + rng.uniform(-2.0, 2.0, c) + offset
    return x.astype(np.float32)


def assert_close(actual, expected, rtol):
    """Max abs difference within rtol of the largest reference entry (float32 results)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape
    scale = max(np.abs(expected).max(), 1e-12)
    assert np.abs(actual - expected).max() <= rtol * scale


@pytest.mark.parametrize("shape", SHAPES)
def test_training_matches_float64_reference(nn, shape) -> None:
    rng = np.random.default_rng(sum(shape))
    c = shape[-1]
    layer = make_layer(nn, c, rng)
    x, g = random_input(shape, rng), rng.standard_normal(shape).astype(np.float32)
    out = layer.forward(x, training=True)
    dx = layer.backward(g)
    ref_out, ref_dx, ref_dgamma, ref_dbeta = reference(x, g, layer.params["gamma"], layer.params["beta"])
    assert out.dtype == dx.dtype == np.float32
    assert out.shape == dx.shape == shape
    assert_close(out.reshape(-1, c), ref_out, 1e-5)
    assert_close(layer.grads["beta"], ref_dbeta, 1e-5)
    if shape[0] * int(np.prod(shape[1:-1])) == 1:  # one value per channel: x_hat == 0
        np.testing.assert_array_equal(out.reshape(-1), layer.params["beta"])
        np.testing.assert_array_equal(dx, 0.0)
        np.testing.assert_array_equal(layer.grads["gamma"], 0.0)
        return
    assert_close(dx.reshape(-1, c), ref_dx, 1e-5)
    assert_close(layer.grads["gamma"], ref_dgamma, 1e-5)


def test_large_mean_offset_has_no_cancellation(nn) -> None:
    # E[x^2] - E[x]^2 in float32 would lose every digit of the variance here (x^2 ~ 1e6, var ~ 1)
    rng = np.random.default_rng(3)
    shape = (32, 4, 4, 8)
    layer = make_layer(nn, 8, rng, momentum=1.0)
    x, g = random_input(shape, rng, offset=1000.0), rng.standard_normal(shape).astype(np.float32)
    out = layer.forward(x, training=True)
    dx = layer.backward(g)
    ref_out, ref_dx, ref_dgamma, _ = reference(x, g, layer.params["gamma"], layer.params["beta"])
    x64 = x.reshape(-1, 8).astype(np.float64)
    np.testing.assert_allclose(layer.buffers["running_var"], x64.var(axis=0, ddof=1), rtol=1e-4)
    np.testing.assert_allclose(layer.buffers["running_mean"], x64.mean(axis=0), rtol=1e-6)
    # float32 inputs near 1000 are only known to ~6e-5, so the mean (and x_hat) to about that
    assert_close(out.reshape(-1, 8), ref_out, 1e-3)
    assert_close(dx.reshape(-1, 8), ref_dx, 1e-3)
    assert_close(layer.grads["gamma"], ref_dgamma, 1e-3)


def test_running_statistics_follow_pytorch_convention(nn) -> None:
    rng = np.random.default_rng(4)
    layer = nn.BatchNorm(5, momentum=0.3)
    mean, var = np.zeros(5), np.ones(5)
    for shape in [(4, 3, 3, 5), (7, 5), (1, 5)]:
        x = random_input(shape, rng)
        layer.forward(x, training=True)
        x64 = x.reshape(-1, 5).astype(np.float64)
        m = x64.shape[0]
        unbiased = x64.var(axis=0) * m / (m - 1) if m > 1 else np.zeros(5)  # a batch of 1 gives 0
        mean = 0.7 * mean + 0.3 * x64.mean(axis=0)
        var = 0.7 * var + 0.3 * unbiased
        np.testing.assert_allclose(layer.buffers["running_mean"], mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(layer.buffers["running_var"], var, rtol=1e-5, atol=1e-6)
    assert layer.buffers["running_mean"].dtype == layer.buffers["running_var"].dtype == np.float32


@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 5, 4)])
def test_use_running_stats_trains_gamma_and_beta_only(nn, shape) -> None:
    rng = np.random.default_rng(5)
    layer = make_layer(nn, 4, rng)
    layer.use_running_stats = True
    before = {k: v.copy() for k, v in layer.buffers.items()}
    x, g = random_input(shape, rng), rng.standard_normal(shape).astype(np.float32)
    out = layer.forward(x, training=True)
    dx = layer.backward(g)
    for k in before:
        np.testing.assert_array_equal(layer.buffers[k], before[k])
    ref = reference(x, g, layer.params["gamma"], layer.params["beta"], before["running_mean"], before["running_var"])
    for actual, expected in zip((out, dx, layer.grads["gamma"], layer.grads["beta"]), ref, strict=True):
        assert_close(np.reshape(actual, expected.shape), expected, 1e-5)
    np.testing.assert_array_equal(out, layer.forward(x, training=False))


@pytest.mark.parametrize("shape", [(1, 3), (6, 3), (5, 4, 4, 3), (64, 8, 8, 3)])
def test_infer_equals_inference_forward_and_keeps_nothing(shape) -> None:
    rng = np.random.default_rng(6)
    layer = make_layer(fast, 3, rng)
    x = random_input(shape, rng)
    out = layer.infer(x)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones(shape, np.float32))  # infer cached nothing
    expected = layer.forward(x, training=False)
    assert out.dtype == expected.dtype == np.float32
    np.testing.assert_array_equal(out, expected)
    ref_out = reference(x, x, layer.params["gamma"], layer.params["beta"],
                        layer.buffers["running_mean"], layer.buffers["running_var"])[0]
    assert_close(out.reshape(-1, 3), ref_out, 1e-6)
    # an infer between a training forward and its backward changes nothing
    g = rng.standard_normal(shape).astype(np.float32)
    layer.forward(x, training=True)
    dx = layer.backward(g)
    layer.forward(x, training=True)
    layer.infer(random_input(shape, rng))
    np.testing.assert_array_equal(layer.backward(g), dx)


def test_backward_flags_and_in_place_grads(nn) -> None:
    rng = np.random.default_rng(7)
    layer = make_layer(nn, 6, rng)
    x, g = random_input((5, 2, 2, 6), rng), rng.standard_normal((5, 2, 2, 6)).astype(np.float32)
    grads = {k: v for k, v in layer.grads.items()}
    layer.forward(x, training=True)
    dx = layer.backward(g)
    full = {k: v.copy() for k, v in layer.grads.items()}
    assert all(layer.grads[k] is grads[k] for k in grads)  # written in place
    for v in layer.grads.values():
        v[:] = -7.0
    np.testing.assert_array_equal(layer.backward(g, need_param_grads=False), dx)
    assert all(np.all(v == -7.0) for v in layer.grads.values())
    assert layer.backward(g, need_input_grad=False) is None
    for k in full:
        np.testing.assert_array_equal(layer.grads[k], full[k])


def test_returned_arrays_are_fresh_and_inputs_untouched(nn) -> None:
    rng = np.random.default_rng(8)
    layer = make_layer(nn, 4, rng)
    x1, x2 = random_input((8, 3, 3, 4), rng), random_input((8, 3, 3, 4), rng)
    g1, g2 = rng.standard_normal(x1.shape).astype(np.float32), rng.standard_normal(x1.shape).astype(np.float32)
    copies = [a.copy() for a in (x1, x2, g1, g2)]
    out1 = layer.forward(x1, training=True)
    dx1 = layer.backward(g1)
    kept = out1.copy(), dx1.copy()
    out2 = layer.forward(x2, training=True)
    dx2 = layer.backward(g2)
    assert not np.shares_memory(out1, out2) and not np.shares_memory(dx1, dx2)
    np.testing.assert_array_equal(out1, kept[0])
    np.testing.assert_array_equal(dx1, kept[1])
    for a, b in zip((x1, x2, g1, g2), copies, strict=True):
        np.testing.assert_array_equal(a, b)


def test_non_contiguous_and_float64_inputs(nn) -> None:
    rng = np.random.default_rng(9)
    layer = make_layer(nn, 3, rng)
    x = np.asfortranarray(random_input((6, 2, 2, 3), rng))
    g = rng.standard_normal(x.shape).astype(np.float32)[:, ::-1]
    out = layer.forward(x, training=True)
    dx = layer.backward(g)
    ref_out, ref_dx, _, _ = reference(x, g, layer.params["gamma"], layer.params["beta"])
    assert_close(out.reshape(-1, 3), ref_out, 1e-5)
    assert_close(dx.reshape(-1, 3), ref_dx, 1e-5)
    out64 = layer.forward(x.astype(np.float64), training=True)
    assert out64.dtype == np.float64
    assert_close(out64.reshape(-1, 3), ref_out, 1e-5)
