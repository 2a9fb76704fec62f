"""Behaviour of the layers: shapes, dtypes, modes, frozen-layer flags, validation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from reference_layers import naive_conv

from tlkit.nn import (
    fast,
    he_normal,
)


def naive_maxpool_grad(x: np.ndarray, g: np.ndarray, p: int) -> np.ndarray:
    """PyTorch semantics: each window's gradient goes to its first maximum (row-major)."""
    dx = np.zeros_like(x)
    n, ho, wo, c = g.shape
    for s, i, j, ch in itertools.product(range(n), range(ho), range(wo), range(c)):
        window = x[s, i * p:(i + 1) * p, j * p:(j + 1) * p, ch]
        a, b = np.unravel_index(np.argmax(window), window.shape)
        dx[s, i * p + a, j * p + b, ch] += g[s, i, j, ch]
    return dx


# ---------------------------------------------------------------- Dense / init


def test_he_normal_is_float32_with_the_right_spread() -> None:
    w = he_normal((400, 300), 400, np.random.default_rng(0))
    assert w.dtype == np.float32 and w.shape == (400, 300)
    assert abs(w.std() - np.sqrt(2 / 400)) < 0.003
    same = he_normal((400, 300), 400, np.random.default_rng(0))
    np.testing.assert_array_equal(w, same)


def test_dense_forward_and_float32(nn) -> None:
    rng = np.random.default_rng(0)
    layer = nn.Dense(4, 3, rng)
    assert layer.params["W"].dtype == np.float32 and layer.params["b"].dtype == np.float32
    assert layer.params["W"].shape == (4, 3) and layer.params["b"].shape == (3,)
    layer.params["b"][:] = [1, 2, 3]
    x = rng.standard_normal((5, 4)).astype(np.float32)
    out = layer.forward(x, training=True)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, x @ layer.params["W"] + layer.params["b"], rtol=1e-6)
    dx = layer.backward(np.ones_like(out))
    assert dx.dtype == np.float32
    assert layer.grads["W"].dtype == np.float32 and layer.grads["b"].dtype == np.float32
    np.testing.assert_allclose(layer.grads["b"], [5, 5, 5])
    assert layer.output_shape((4,)) == (3,)


# ---------------------------------------------------------------- Conv2D


@pytest.mark.parametrize(
    ("kernel", "padding", "pads"),
    [(3, "same", (1, 1, 1, 1)), (5, "same", (2, 2, 2, 2)), (3, "valid", (0, 0, 0, 0)),
     (1, "same", (0, 0, 0, 0)), (3, 2, (2, 2, 2, 2)), (2, "same", (0, 1, 0, 1))],
)
def test_conv_matches_naive_loop(nn, kernel, padding, pads) -> None:
    rng = np.random.default_rng(1)
    layer = nn.Conv2D(3, 4, kernel_size=kernel, padding=padding, rng=rng)
    layer.params["b"][:] = rng.standard_normal(4)
    x = rng.standard_normal((2, 6, 5, 3)).astype(np.float32)
    out = layer.forward(x)
    assert out.dtype == np.float32
    expected = naive_conv(x.astype(np.float64), layer.params["W"].astype(np.float64),
                          layer.params["b"], pads)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    assert out.shape[1:] == layer.output_shape((6, 5, 3))


def test_conv_buffers_reused_and_reallocated_on_shape_change() -> None:
    rng = np.random.default_rng(2)
    layer = fast.Conv2D(2, 3, rng=rng)
    x1 = rng.standard_normal((4, 5, 5, 2)).astype(np.float32)
    out1 = layer.forward(x1)
    buf = layer._xpad
    layer.forward(rng.standard_normal((4, 5, 5, 2)).astype(np.float32))
    assert layer._xpad is buf  # same shape: no new padded buffer
    np.testing.assert_array_equal(layer.forward(x1), out1)  # and no stale data leaks
    x2 = rng.standard_normal((3, 6, 4, 2)).astype(np.float32)  # smaller last batch etc.
    out2 = layer.forward(x2)
    assert out2.shape == (3, 6, 4, 3)
    np.testing.assert_allclose(out2, naive_conv(x2, layer.params["W"], layer.params["b"],
                                                (1, 1, 1, 1)), rtol=1e-4, atol=1e-5)


def test_conv_backward_float32_and_flags(nn) -> None:
    rng = np.random.default_rng(3)
    layer = nn.Conv2D(2, 3, rng=rng)
    x = rng.standard_normal((2, 4, 4, 2)).astype(np.float32)
    g = rng.standard_normal((2, 4, 4, 3)).astype(np.float32)
    layer.forward(x, training=True)
    dx = layer.backward(g)
    assert dx.dtype == np.float32 and dx.shape == x.shape
    assert layer.grads["W"].dtype == np.float32 and layer.grads["W"].shape == (3, 3, 2, 3)
    dx_again = layer.backward(g)  # the reused gradient buffer is cleared between calls
    np.testing.assert_array_equal(dx, dx_again)


def test_conv_rejects_bad_arguments(nn) -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="padding"):
        nn.Conv2D(1, 2, padding="full", rng=rng)
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2D(1, 2, kernel_size=0, rng=rng)
    with pytest.raises(ValueError, match="in_channels"):
        nn.Conv2D(0, 2, rng=rng)
    with pytest.raises(ValueError, match="channels"):
        nn.Conv2D(3, 2, rng=rng).forward(np.zeros((1, 4, 4, 2), np.float32))
    with pytest.raises(ValueError, match="too small"):
        nn.Conv2D(1, 1, kernel_size=5, padding="valid", rng=rng).forward(np.zeros((1, 3, 3, 1)))


# ------------------------------------------- need_input_grad / need_param_grads


def make_layers(nn, rng: np.random.Generator):
    return [
        (nn.Dense(4, 3, rng), (2, 4)),
        (nn.Conv2D(2, 3, rng=rng), (2, 4, 4, 2)),
        (nn.BatchNorm(2), (3, 4, 4, 2)),
    ]


@pytest.mark.parametrize("training", [True, False])
def test_need_param_grads_false_leaves_grads_untouched(nn, training: bool) -> None:
    rng = np.random.default_rng(4)
    for layer, shape in make_layers(nn, rng):
        before = {k: v.copy() for k, v in layer.grads.items()}
        ids = {k: id(v) for k, v in layer.grads.items()}
        out = layer.forward(rng.standard_normal(shape).astype(np.float32), training=training)
        dx = layer.backward(np.ones_like(out), need_param_grads=False)
        assert dx is not None and dx.shape == shape
        for k in before:
            assert id(layer.grads[k]) == ids[k]
            np.testing.assert_array_equal(layer.grads[k], before[k])
        # and the same call with param grads does change them
        layer.backward(np.ones_like(out))
        assert any(not np.array_equal(layer.grads[k], before[k]) for k in before)


def test_need_input_grad_false_returns_none(nn) -> None:
    rng = np.random.default_rng(5)
    layers = [*make_layers(nn, rng), (nn.ReLU(), (2, 3)), (nn.MaxPool2D(), (1, 4, 4, 1)),
              (nn.GlobalAvgPool2D(), (1, 2, 2, 3)), (nn.Flatten(), (2, 3, 2)),
              (nn.Dropout(0.5), (2, 3))]
    for layer, shape in layers:
        out = layer.forward(rng.standard_normal(shape).astype(np.float32), training=True)
        assert layer.backward(np.ones_like(out), need_input_grad=False) is None
    dense = nn.Dense(3, 2, rng)
    out = dense.forward(np.ones((1, 3), np.float32))
    dense.backward(np.ones_like(out), need_input_grad=False)
    np.testing.assert_array_equal(dense.grads["W"], np.ones((3, 2)))  # params still computed


# ---------------------------------------------------------------- MaxPool2D


@pytest.mark.parametrize("shape", [(2, 4, 4, 3), (1, 5, 7, 2), (2, 6, 6, 1)])
@pytest.mark.parametrize("pool", [2, 3])
def test_maxpool_with_ties_matches_pytorch_semantics(nn, shape, pool) -> None:
    rng = np.random.default_rng(6)
    x = rng.integers(0, 2, shape).astype(np.float32)  # ties everywhere
    x[0, :2, :2, 0] = 0.0  # a constant window
    layer = nn.MaxPool2D(pool)
    out = layer.forward(x, training=True)
    ho, wo = shape[1] // pool, shape[2] // pool
    assert out.shape == (shape[0], ho, wo, shape[3]) and out.dtype == np.float32
    crop = x[:, :ho * pool, :wo * pool]
    blocks = crop.reshape(shape[0], ho, pool, wo, pool, shape[3]).max(axis=(2, 4))
    np.testing.assert_array_equal(out, blocks)
    g = rng.standard_normal(out.shape).astype(np.float32)
    dx = layer.backward(g)
    assert dx.dtype == np.float32 and dx.shape == x.shape
    np.testing.assert_array_equal(dx, naive_maxpool_grad(x, g, pool))
    # floor mode: dropped trailing rows/cols get no gradient
    assert not dx[:, ho * pool:].any() and not dx[:, :, wo * pool:].any()


def test_maxpool_constant_input_routes_to_top_left(nn) -> None:
    layer = nn.MaxPool2D(2)
    layer.forward(np.ones((1, 4, 4, 1), np.float32))
    dx = layer.backward(np.ones((1, 2, 2, 1), np.float32))
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(dx[0, :, :, 0], expected)


def test_maxpool_output_shape_and_validation(nn) -> None:
    assert nn.MaxPool2D(2).output_shape((7, 5, 3)) == (3, 2, 3)
    with pytest.raises(ValueError, match="pool_size"):
        nn.MaxPool2D(0)
    with pytest.raises(ValueError, match="at least"):
        nn.MaxPool2D(3).forward(np.zeros((1, 2, 2, 1)))


# ------------------------------------------------- GAP, Flatten, ReLU


def test_global_avg_pool_and_flatten_shapes(nn) -> None:
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    gap = nn.GlobalAvgPool2D()
    out = gap.forward(x)
    assert out.shape == (2, 5) and out.dtype == np.float32
    np.testing.assert_allclose(out, x.mean(axis=(1, 2)))
    dx = gap.backward(np.ones((2, 5), np.float32))
    assert dx.dtype == np.float32
    np.testing.assert_allclose(dx, np.full(x.shape, 1 / 12))
    assert gap.output_shape((3, 4, 5)) == (5,)
    flat = nn.Flatten()
    assert flat.forward(x).shape == (2, 60)
    assert flat.backward(np.ones((2, 60), np.float32)).shape == x.shape
    assert flat.output_shape((3, 4, 5)) == (60,)


def test_relu_forward_backward_and_inplace(nn) -> None:
    x = np.array([[-1.0, 0.0, 2.0]], np.float32)
    relu = nn.ReLU()
    out = relu.forward(x)
    np.testing.assert_array_equal(out, [[0, 0, 2]])
    np.testing.assert_array_equal(x, [[-1, 0, 2]])  # input untouched by default
    np.testing.assert_array_equal(relu.backward(np.full((1, 3), 5, np.float32)), [[0, 0, 5]])
    inplace = nn.ReLU(inplace=True)
    out = inplace.forward(x)
    assert out is x and out.dtype == np.float32
    np.testing.assert_array_equal(inplace.backward(np.ones((1, 3), np.float32)), [[0, 0, 1]])


# ---------------------------------------------------------------- BatchNorm


def test_batchnorm_training_uses_batch_stats_and_updates_running(nn) -> None:
    rng = np.random.default_rng(7)
    layer = nn.BatchNorm(3, momentum=0.2)
    x = (3 * rng.standard_normal((8, 5, 5, 3)) + 2).astype(np.float32)
    out = layer.forward(x, training=True)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=(0, 1, 2)), 1, atol=1e-3)
    m = x.size // 3
    batch_mean = x.astype(np.float64).mean(axis=(0, 1, 2))
    unbiased = x.astype(np.float64).var(axis=(0, 1, 2)) * m / (m - 1)
    np.testing.assert_allclose(layer.buffers["running_mean"], 0.8 * 0 + 0.2 * batch_mean,
                               rtol=1e-5)
    np.testing.assert_allclose(layer.buffers["running_var"], 0.8 * 1 + 0.2 * unbiased, rtol=1e-5)
    assert layer.buffers["running_mean"].dtype == np.float32


def test_batchnorm_inference_uses_running_stats_and_updates_nothing(nn) -> None:
    rng = np.random.default_rng(8)
    layer = nn.BatchNorm(2)
    layer.buffers["running_mean"][:] = [1.0, -2.0]
    layer.buffers["running_var"][:] = [4.0, 0.25]
    layer.params["gamma"][:] = [2.0, 1.0]
    layer.params["beta"][:] = [0.5, 0.0]
    before = {k: v.copy() for k, v in layer.buffers.items()}
    x = rng.standard_normal((4, 2)).astype(np.float32)
    out = layer.forward(x, training=False)
    assert out.dtype == np.float32
    expected = 2.0 * (x[:, 0] - 1.0) / np.sqrt(4.0 + 1e-5) + 0.5
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-5)
    for k in before:
        np.testing.assert_array_equal(layer.buffers[k], before[k])
    dx = layer.backward(np.ones_like(out))
    assert dx.dtype == np.float32
    np.testing.assert_allclose(dx[:, 1], 1 / np.sqrt(0.25 + 1e-5), rtol=1e-5)
    # training mode on the same input gives a different (batch-normalised) answer
    assert not np.allclose(layer.forward(x, training=True), out)


def test_batchnorm_batch_of_one_in_training(nn) -> None:
    layer = nn.BatchNorm(3)
    out = layer.forward(np.array([[1.0, 2.0, 3.0]], np.float32), training=True)
    assert np.all(np.isfinite(out))
    assert np.all(np.isfinite(layer.buffers["running_var"]))
    dx = layer.backward(np.ones((1, 3), np.float32))
    assert np.all(np.isfinite(dx)) and np.all(np.isfinite(layer.grads["gamma"]))


def test_batchnorm_rejects_bad_arguments(nn) -> None:
    with pytest.raises(ValueError, match="num_features"):
        nn.BatchNorm(0)
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm(3, momentum=1.5)
    with pytest.raises(ValueError, match="eps"):
        nn.BatchNorm(3, eps=0)
    with pytest.raises(ValueError, match="last dimension 3"):
        nn.BatchNorm(3).forward(np.zeros((2, 4), np.float32))


# ---------------------------------------------------------------- Dropout


def test_dropout_inverted_scaling_and_identity_modes(nn) -> None:
    x = np.ones((200, 100), np.float32)
    layer = nn.Dropout(0.25, rng=np.random.default_rng(0))
    assert layer.forward(x, training=False) is x
    out = layer.forward(x, training=True)
    assert out.dtype == np.float32
    kept = out != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    g = layer.backward(np.full_like(x, 2.0))
    np.testing.assert_array_equal(g != 0, kept)  # the same mask in backward
    assert nn.Dropout(0.0).forward(x, training=True) is x


def test_dropout_rng_can_be_replaced_for_seeding(nn) -> None:
    x = np.ones((10, 10), np.float32)
    layer = nn.Dropout(0.5)
    layer.rng = np.random.default_rng(42)
    first = layer.forward(x, training=True)
    layer.rng = np.random.default_rng(42)
    np.testing.assert_array_equal(layer.forward(x, training=True), first)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_rejects_bad_rate(nn, rate: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        nn.Dropout(rate)


def test_param_grads_are_written_in_place(nn) -> None:
    """An optimizer group built once keeps seeing fresh gradients."""
    rng = np.random.default_rng(11)
    for layer, shape in make_layers(nn, rng):
        held = dict(layer.grads)
        for seed in (1, 2):
            x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
            out = layer.forward(x, training=True)
            layer.backward(np.ones_like(out) * seed)
            for k, arr in held.items():
                assert layer.grads[k] is arr and arr.dtype == np.float32
        assert any(np.any(arr != 0) for arr in held.values())
