"""MaxPool2D against a plain reference: exact outputs and gradients, ties, floor mode, infer, buffers."""

from __future__ import annotations

import numpy as np
import pytest

from tlkit.nn import MaxPool2D, check_layer_gradients, fast


def reference_maxpool(x: np.ndarray, g: np.ndarray | None, p: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Output and input gradient the obvious way: each window's values in a row, argmax, one-hot.

    ``np.argmax`` returns the first maximum in row-major window order (PyTorch's choice). The
    gradient is ``g * one_hot`` as in the layer, so a loser gets ``g * 0`` (a zero with g's sign).
    """
    n, h, w, c = x.shape
    ho, wo = h // p, w // p
    windows = x[:, :ho * p, :wo * p].reshape(n, ho, p, wo, p, c).transpose(0, 1, 3, 5, 2, 4)
    windows = windows.reshape(n, ho, wo, c, p * p)
    first = windows.argmax(axis=-1)
    out = np.take_along_axis(windows, first[..., None], axis=-1)[..., 0]
    if g is None:
        return out, None
    one_hot = np.arange(p * p) == first[..., None]  # (n, ho, wo, c, p*p)
    routed = (g[..., None] * one_hot).reshape(n, ho, wo, c, p, p).transpose(0, 1, 4, 2, 5, 3)
    dx = np.zeros(x.shape, dtype=g.dtype)
    dx[:, :ho * p, :wo * p] = routed.reshape(n, ho * p, wo * p, c)
    return out, dx


def assert_bitwise_equal(actual: np.ndarray, expected: np.ndarray) -> None:
    """Same dtype, shape and bytes (so -0.0 and 0.0 are told apart)."""
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    assert actual.tobytes() == np.ascontiguousarray(expected).tobytes()


def make_input(kind: str, shape: tuple[int, ...], rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    x = {
        "normal": rng.standard_normal(shape),
        "relu": np.maximum(rng.standard_normal(shape), 0.0),  # flat zero regions: ties everywhere
        "small_ints": rng.integers(0, 3, shape).astype(np.float64),
        "constant": np.full(shape, -1.5),
    }[kind]
    if kind == "normal":
        x[:, :2, :2] = 0.0  # an all-zero corner among distinct values
    return x.astype(dtype)


def check_against_reference(layer: MaxPool2D, x: np.ndarray, rng: np.random.Generator) -> None:
    g = rng.standard_normal((x.shape[0], x.shape[1] // layer.pool_size, x.shape[2] // layer.pool_size, x.shape[3]))
    g = g.astype(x.dtype)
    expected_out, expected_dx = reference_maxpool(x, g, layer.pool_size)
    assert_bitwise_equal(layer.forward(x, training=True), expected_out)
    assert_bitwise_equal(layer.backward(g), expected_dx)


@pytest.mark.parametrize("kind", ["normal", "relu", "small_ints", "constant"])
@pytest.mark.parametrize("pool", [1, 2, 3])
@pytest.mark.parametrize("shape", [(3, 8, 8, 5), (2, 7, 5, 3), (1, 6, 9, 16)])
def test_forward_and_backward_equal_the_reference(nn, kind: str, pool: int, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    check_against_reference(nn.MaxPool2D(pool), make_input(kind, shape, rng), rng)


def test_every_window_passes_its_gradient_on_exactly_once(nn) -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, (4, 6, 6, 3)).astype(np.float32)  # most windows hold several maxima
    layer = nn.MaxPool2D(2)
    layer.forward(x, training=True)
    dx = layer.backward(np.ones((4, 3, 3, 3), np.float32))
    windows = dx.reshape(4, 3, 2, 3, 2, 3)
    np.testing.assert_array_equal((windows != 0).sum(axis=(2, 4)), 1)
    np.testing.assert_array_equal(windows.sum(axis=(2, 4)), 1.0)


def test_ties_go_to_the_first_maximum_in_row_major_order(nn) -> None:
    layer = nn.MaxPool2D(2)
    # one window per case, one channel each: the maxima sit at the marked taps
    x = np.array([[[1, 1], [1, 1]], [[0, 2], [2, 0]], [[0, 1], [0, 1]], [[0, 0], [3, 3]]], np.float32)
    x = x.transpose(1, 2, 0)[None]  # (1, 2, 2, 4)
    layer.forward(x, training=True)
    dx = layer.backward(np.full((1, 1, 1, 4), 5.0, np.float32))[0]
    np.testing.assert_array_equal(dx[..., 0], [[5, 0], [0, 0]])
    np.testing.assert_array_equal(dx[..., 1], [[0, 5], [0, 0]])  # (0, 1) comes before (1, 0)
    np.testing.assert_array_equal(dx[..., 2], [[0, 5], [0, 0]])
    np.testing.assert_array_equal(dx[..., 3], [[0, 0], [5, 0]])


def test_signed_zeros_tie(nn) -> None:
    """-0.0 == 0.0, so a window holding both routes to the first; infer keeps forward's zero sign."""
    rng = np.random.default_rng(8)
    x = rng.choice(np.array([-0.0, 0.0, -1.0], np.float32), size=(4, 6, 6, 3))
    g = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    layer = nn.MaxPool2D(2)
    out = layer.forward(x, training=True)
    expected_out, expected_dx = reference_maxpool(x, g, 2)
    np.testing.assert_array_equal(out, expected_out)  # equal values; which zero max() keeps is numpy's choice
    assert_bitwise_equal(layer.backward(g), expected_dx)
    assert_bitwise_equal(layer.infer(x), out)


def test_floor_mode_drops_trailing_rows_and_cols(nn) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 7, 5, 3)).astype(np.float32)
    x[:, 6], x[:, :, 4] = 100.0, 100.0  # large values that floor mode must ignore
    layer = nn.MaxPool2D(3)
    out = layer.forward(x, training=True)
    assert out.shape == (2, 2, 1, 3)
    assert out.max() < 100.0
    dx = layer.backward(np.ones_like(out))
    assert not dx[:, 6:].any() and not dx[:, :, 3:].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_infer_equals_forward_and_keeps_no_backward_state(dtype) -> None:
    rng = np.random.default_rng(3)
    x = make_input("relu", (4, 9, 8, 6), rng, dtype)
    layer = fast.MaxPool2D(2)
    assert_bitwise_equal(layer.infer(x), layer.forward(x))
    # infer on another batch between forward and backward must not change the routing
    g = rng.standard_normal((4, 4, 4, 6)).astype(dtype)
    expected_dx = layer.backward(g)
    layer.infer(make_input("normal", (7, 9, 8, 6), rng, dtype))
    assert_bitwise_equal(layer.backward(g), expected_dx)
    fresh = fast.MaxPool2D(2)
    assert_bitwise_equal(fresh.infer(x), reference_maxpool(x, None, 2)[0])
    with pytest.raises(RuntimeError, match="before forward"):
        fresh.backward(g)


@pytest.mark.parametrize("chunk_bytes", [1, 700, 5000])
def test_chunked_batches_give_the_same_result(chunk_bytes: int) -> None:
    rng = np.random.default_rng(4)
    layer = fast.MaxPool2D(2)
    layer.chunk_bytes = chunk_bytes  # one sample per chunk, a few, or a short last chunk
    check_against_reference(layer, make_input("relu", (5, 6, 6, 8), rng), rng)
    x = make_input("small_ints", (5, 6, 6, 8), rng)
    assert_bitwise_equal(layer.infer(x), reference_maxpool(x, None, 2)[0])


def test_outputs_are_fresh_arrays_across_calls_and_batch_sizes(nn) -> None:
    rng = np.random.default_rng(5)
    layer = nn.MaxPool2D(2)
    results = []
    for n in (4, 2, 4):  # shapes that change and come back: scratch buffers are reused
        x = make_input("normal", (n, 6, 6, 3), rng)
        g = rng.standard_normal((n, 3, 3, 3)).astype(np.float32)
        out, dx = layer.forward(x, training=True), layer.backward(g)
        results.append((x, g, out.copy(), dx.copy(), out, dx))
    for x, g, out_copy, dx_copy, out, dx in results:  # earlier results were not overwritten
        assert_bitwise_equal(out, out_copy)
        assert_bitwise_equal(dx, dx_copy)
        expected_out, expected_dx = reference_maxpool(x, g, 2)
        assert_bitwise_equal(out, expected_out)
        assert_bitwise_equal(dx, expected_dx)


def test_dtypes_non_contiguous_inputs_and_empty_batches(nn) -> None:
    rng = np.random.default_rng(6)
    x = make_input("small_ints", (3, 6, 4, 5), rng, np.float64)
    layer = nn.MaxPool2D(2)
    strided = np.asfortranarray(x)
    assert_bitwise_equal(layer.forward(strided), reference_maxpool(x, None, 2)[0])
    g32 = np.ones((3, 3, 2, 5), np.float32)
    assert layer.backward(g32).dtype == np.float32  # the gradient's dtype follows grad_out
    with pytest.raises(ValueError, match="grad_out"):
        layer.backward(np.ones((3, 2, 2, 5)))
    empty = np.zeros((0, 4, 4, 2), np.float32)
    assert layer.forward(empty).shape == (0, 2, 2, 2) and layer.infer(empty).shape == (0, 2, 2, 2)
    assert layer.backward(np.zeros((0, 2, 2, 2), np.float32)).shape == (0, 4, 4, 2)


@pytest.mark.parametrize("pool", [2, 3])
def test_numerical_gradient(nn, pool: int) -> None:
    rng = np.random.default_rng(7)
    shape = (2, 7, 6, 2)
    x = (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.05).astype(np.float64)  # no near-ties
    assert check_layer_gradients(nn.MaxPool2D(pool), x, rng)["x"] < 1e-6
