"""Adapter, LoRA, Frozen and the input stem: gradient checks, identity at the start, and the wrapped
pretrained layers never written to; the wrapped layers on both engines (the ``nn`` fixture)."""

from __future__ import annotations

import numpy as np
import pytest

from tlkit.nn import Adapter, Frozen, LoRA, check_layer_gradients, engine, input_stem
from tlkit.nn.adapter import adapter_backward, adapter_forward, adapter_forward_backward

TOL = 1e-5


def assert_close(errors: dict[str, float], keys: set[str]) -> None:
    assert set(errors) == keys
    for key, err in errors.items():
        assert err < TOL, f"gradient of {key}: relative error {err:.2e}"


def trained_adapter(channels: int, bottleneck: int, rng: np.random.Generator) -> Adapter:
    """An adapter whose up-projection is no longer zero (every gradient path is exercised)."""
    adapter = Adapter(channels, bottleneck, rng)
    adapter.params["W_up"][...] = rng.standard_normal(adapter.params["W_up"].shape)
    adapter.params["b_up"][...] = rng.standard_normal(adapter.params["b_up"].shape)
    adapter.params["b_down"][...] = rng.standard_normal(adapter.params["b_down"].shape) * 0.1
    return adapter


@pytest.mark.parametrize("shape", [(5, 6), (2, 3, 3, 6), (2, 24)], ids=["vectors", "maps", "flattened map"])
def test_adapter_gradients(shape) -> None:
    rng = np.random.default_rng(0)
    errors = check_layer_gradients(trained_adapter(6, 3, rng), rng.standard_normal(shape), rng)
    assert_close(errors, {"x", "W_down", "b_down", "W_up", "b_up"})


def test_a_new_adapter_is_the_identity_and_still_learns() -> None:
    rng = np.random.default_rng(1)
    adapter = Adapter(8, 2, rng)
    x = rng.standard_normal((3, 4, 4, 8)).astype(np.float32)
    np.testing.assert_array_equal(adapter.forward(x, training=True), x)
    np.testing.assert_array_equal(adapter.infer(x), x)
    dx = adapter.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx, np.ones_like(x))             # the skip passes g through
    assert np.abs(adapter.grads["W_up"]).max() > 0                 # the zero up-projection gets a gradient
    assert sum(p.size for p in adapter.params.values()) == 2 * 8 * 2 + 2 + 8


def test_adapter_functions_match_the_layer() -> None:
    rng = np.random.default_rng(2)
    adapter = trained_adapter(4, 2, rng)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    g = rng.standard_normal((5, 4)).astype(np.float32)
    y_layer = adapter.forward(x, training=True)
    dx_layer = adapter.backward(g)
    y, grads = adapter_forward_backward(x, adapter.params, g)
    np.testing.assert_array_equal(y, y_layer)
    np.testing.assert_array_equal(grads["x"], dx_layer)
    for name in ("W_down", "b_down", "W_up", "b_up"):
        np.testing.assert_array_equal(grads[name], adapter.grads[name])
    y2, cache = adapter_forward(x, *(adapter.params[k] for k in ("W_down", "b_down", "W_up", "b_up")))
    np.testing.assert_array_equal(y2, y)
    assert set(adapter_backward(g, cache)) == {"x", "W_down", "b_down", "W_up", "b_up"}


def test_adapter_rejects_inputs_of_the_wrong_width() -> None:
    adapter = Adapter(6, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="6 channels"):
        adapter.forward(np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="channels"):
        Adapter(0, 2, np.random.default_rng(0))


def lora_with_update(layer, rank: int, rng: np.random.Generator) -> LoRA:
    lora = LoRA(layer, rank, rng, alpha=2.0 * rank)
    lora.params["B"][...] = rng.standard_normal(lora.params["B"].shape)  # a non-zero update
    return lora


def test_lora_dense_gradients(nn) -> None:
    rng = np.random.default_rng(3)
    dense = nn.Dense(6, 4, rng)
    errors = check_layer_gradients(lora_with_update(dense, 2, rng), rng.standard_normal((5, 6)), rng)
    assert_close(errors, {"x", "A", "B"})


@pytest.mark.parametrize("hw", [3, 5])
def test_lora_conv_gradients(nn, hw) -> None:
    rng = np.random.default_rng(4)
    conv = nn.Conv2D(3, 4, kernel_size=3, padding="same", rng=rng)
    errors = check_layer_gradients(lora_with_update(conv, 2, rng), rng.standard_normal((2, hw, hw, 3)), rng)
    assert_close(errors, {"x", "A", "B"})


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_lora_starts_as_the_pretrained_layer_and_never_writes_it(nn, kind) -> None:
    def make(rng):
        return nn.Dense(5, 3, rng) if kind == "dense" else nn.Conv2D(2, 3, kernel_size=3, padding="same", rng=rng)

    rng = np.random.default_rng(5)
    layer = make(rng)
    weight, bias = layer.params["W"], layer.params["b"]
    saved = {k: v.copy() for k, v in layer.params.items()}
    lora = LoRA(layer, 2, rng)
    x = rng.standard_normal((4, 5) if kind == "dense" else (4, 4, 4, 2)).astype(np.float32)
    np.testing.assert_array_equal(lora.forward(x, training=True), layer.forward(x, training=True))
    for _ in range(3):  # train A and B by hand: forward, backward, a step
        out = lora.forward(x, training=True)
        lora.backward(np.ones_like(out))
        for key in ("A", "B"):
            lora.params[key] -= 0.1 * lora.grads[key]
    assert lora.params["B"].any()
    assert layer.params["W"] is weight and layer.params["b"] is bias
    for key, value in saved.items():
        np.testing.assert_array_equal(layer.params[key], value)
    # the merged weight is the function LoRA computes
    plain = make(np.random.default_rng(9))
    plain.params["W"][...] = lora.merged_weight()
    plain.params["b"][...] = bias
    np.testing.assert_allclose(lora.forward(x), plain.forward(x), rtol=1e-5, atol=1e-5)
    assert set(lora.params) == {"A", "B"}


def test_lora_checks_its_arguments(nn) -> None:
    rng = np.random.default_rng(6)
    with pytest.raises(TypeError, match="Dense or Conv2D"):
        LoRA(nn.BatchNorm(3), 1, rng)
    with pytest.raises(ValueError, match="rank must be at most"):
        LoRA(nn.Dense(3, 2, rng), 3, rng)
    with pytest.raises(ValueError, match="rank"):
        LoRA(nn.Dense(3, 2, rng), 0, rng)
    with pytest.raises(ValueError, match="alpha"):
        LoRA(nn.Dense(3, 2, rng), 1, rng, alpha=-1.0)


def test_frozen_batchnorm_shows_no_parameters_and_keeps_its_statistics(nn) -> None:
    rng = np.random.default_rng(7)
    bn = nn.BatchNorm(3)
    bn.buffers["running_mean"][...] = [0.5, -1.0, 2.0]
    bn.buffers["running_var"][...] = [2.0, 0.5, 1.0]
    saved = {k: v.copy() for k, v in {**bn.params, **bn.buffers}.items()}
    frozen = Frozen(bn)
    assert frozen.params == {} and frozen.buffers == {}
    x = rng.standard_normal((6, 3)).astype(np.float32)
    out = frozen.forward(x, training=True)
    np.testing.assert_allclose(out, bn.forward(x, training=False), rtol=1e-6)
    bn.grads["gamma"][...] = 7.0
    dx = frozen.backward(np.ones_like(out))
    np.testing.assert_allclose(dx, np.ones_like(x) / np.sqrt(bn.buffers["running_var"] + bn.eps), rtol=1e-5)
    assert np.all(bn.grads["gamma"] == 7.0)  # no weight gradient computed
    for key, value in saved.items():
        np.testing.assert_array_equal({**bn.params, **bn.buffers}[key], value)
    errors = check_layer_gradients(Frozen(nn.BatchNorm(3)), rng.standard_normal((4, 3)), rng)
    assert_close(errors, {"x"})
    with pytest.raises(TypeError, match="Layer"):
        Frozen("bn")


@pytest.mark.parametrize("engine_name", ["readable", "fast"])
def test_the_input_stem_starts_as_the_identity(engine_name) -> None:
    stem = input_stem(1, engine=engine_name)
    assert type(stem) is engine.layers(engine_name).Conv2D
    x = np.random.default_rng(8).random((3, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(stem.forward(x), x, atol=1e-6)
    assert stem.params["W"].shape == (3, 3, 1, 1) and stem.params["W"].size + stem.params["b"].size == 10
    two = input_stem(2, kernel_size=5, engine=engine_name)
    y = np.random.default_rng(9).random((2, 6, 6, 2)).astype(np.float32)
    np.testing.assert_allclose(two.forward(y), y, atol=1e-6)
    with pytest.raises(ValueError, match="odd"):
        input_stem(1, kernel_size=2)
