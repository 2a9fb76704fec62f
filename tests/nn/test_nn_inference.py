"""The fast engine's inference path (tlkit/nn/fast/inference.py, tlkit/nn/fast/network.py): the same
function as the inference-mode layers. Every layer and network here is built on the fast engine."""

import numpy as np
import pytest

from tlkit.architectures import build_base, build_head
from tlkit.nn import softmax_cross_entropy
from tlkit.nn.fast import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D, Network, ReLU
from tlkit.nn.fast.inference import InferencePlan
from tlkit.nn.inference import folded


def trained_batchnorm(channels: int, rng: np.random.Generator) -> BatchNorm:
    """A BatchNorm with non-trivial running statistics and affine parameters."""
    bn = BatchNorm(channels)
    bn.buffers["running_mean"][...] = rng.standard_normal(channels)
    bn.buffers["running_var"][...] = rng.uniform(0.2, 3.0, channels)
    bn.params["gamma"][...] = rng.uniform(0.5, 1.5, channels)
    bn.params["beta"][...] = rng.standard_normal(channels)
    return bn


def assert_same_function(fast: np.ndarray, reference: np.ndarray) -> None:
    assert fast.shape == reference.shape and fast.dtype == reference.dtype
    np.testing.assert_allclose(fast, reference, rtol=1e-5, atol=1e-5 * np.abs(reference).max())


@pytest.mark.parametrize("make_layer, shape", [
    (lambda rng: Conv2D(3, 5, rng=rng), (4, 6, 6, 3)),
    (lambda rng: Conv2D(2, 4, rng=rng), (4, 2, 2, 2)),  # the small-map (dense) path
    (lambda rng: Dense(7, 5, rng), (6, 7)),
])
def test_folded_batchnorm_is_the_same_affine_map(make_layer, shape) -> None:
    rng = np.random.default_rng(0)
    layer = make_layer(rng)
    layer.params["b"][...] = rng.standard_normal(layer.params["b"].shape)
    bn = trained_batchnorm(layer.params["b"].size, rng)
    x = rng.standard_normal(shape).astype(np.float32)
    reference = bn.forward(layer.forward(x), training=False)
    assert_same_function(folded(layer, bn).forward(x), reference)
    assert_same_function(InferencePlan([layer, bn])(x), reference)


def test_inference_plan_matches_inference_forward_and_leaves_the_input_alone() -> None:
    rng = np.random.default_rng(1)
    layers = [Conv2D(1, 4, rng=rng), trained_batchnorm(4, rng), ReLU(), MaxPool2D(2), Flatten(),
              Dropout(0.5, rng=rng), Dense(4 * 3 * 3, 6, rng), ReLU()]
    x = rng.standard_normal((5, 7, 6, 1)).astype(np.float32)
    before = x.copy()
    reference = x
    for layer in layers:
        reference = layer.forward(reference, training=False)
    assert_same_function(InferencePlan(layers)(x), reference)
    assert np.array_equal(x, before)


def test_a_relu_first_never_overwrites_the_callers_array() -> None:
    x = np.array([[-1.0, 2.0]], dtype=np.float32)
    out = InferencePlan([ReLU(), Dropout(0.3, rng=np.random.default_rng(0)), ReLU()])(x)
    assert out.tolist() == [[0.0, 2.0]] and x.tolist() == [[-1.0, 2.0]]


def test_conv_backward_after_infer_raises_instead_of_using_stale_buffers() -> None:
    rng = np.random.default_rng(2)
    conv = Conv2D(2, 3, rng=rng)
    x = rng.standard_normal((2, 5, 5, 2)).astype(np.float32)
    out = conv.forward(x, training=True)
    conv.infer(rng.standard_normal((2, 5, 5, 2)).astype(np.float32))
    with pytest.raises(RuntimeError, match="before forward"):
        conv.backward(np.ones_like(out))


def image_network(rng: np.random.Generator) -> Network:
    blocks = build_base("medium", (8, 8), rng, "fast")
    for block in blocks:  # give every BatchNorm statistics of its own
        for index, (name, layer) in enumerate(block.layers):
            if isinstance(layer, BatchNorm):
                block.layers[index] = (name, trained_batchnorm(layer.num_features, rng))
    return Network(blocks + [build_head(64 * 2 * 2, 3, rng, engine="fast")])


def test_network_infer_matches_inference_forward() -> None:
    rng = np.random.default_rng(3)
    network = image_network(rng)
    x = rng.standard_normal((9, 8, 8, 1)).astype(np.float32)
    assert_same_function(network.infer(x), network.forward(x, training=False))


@pytest.mark.parametrize("batch", [16, 200])  # 200: several inference chunks and a partial last one
def test_frozen_blocks_below_the_trainable_ones_give_the_same_gradients(batch: int) -> None:
    """Training with the fast path under layer1-3 (frozen) equals feeding the head-side blocks
    the frozen blocks' inference-mode output."""
    rng = np.random.default_rng(4)
    network = image_network(rng)
    for block in network.blocks[:3]:
        block.trainable = False
    x = rng.standard_normal((batch, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 3, batch)
    assert network.inference_chunk_size(x.shape[1:], network.blocks[:3]) < batch or batch == 16
    _, grad = softmax_cross_entropy(network.forward(x, training=True), y)
    network.backward(grad)
    fast = {(group.name, key): g.copy() for group in network.param_groups() for key, g in group.grads.items()}

    features = x
    for block in network.blocks[:3]:
        features = block.forward(features, training=False)
    top = Network(network.blocks[3:])
    _, grad = softmax_cross_entropy(top.forward(features, training=True), y)
    top.backward(grad)
    for group in top.param_groups():
        for key, g in group.grads.items():
            np.testing.assert_allclose(fast[group.name, key], g, rtol=1e-4, atol=1e-6)


def test_backward_after_an_inference_pass_raises_instead_of_using_stale_caches() -> None:
    """A dense block keeps no im2col buffer to invalidate: the block itself must refuse."""
    rng = np.random.default_rng(5)
    network = Network([build_base("simple", (6,), rng, "fast")[0], build_head(64, 3, rng, engine="fast")])
    x = rng.standard_normal((8, 6)).astype(np.float32)
    network.blocks[0].trainable = False
    network.forward(x, training=True)  # layer1 is below every trainable block: inference path
    network.blocks[0].trainable = True
    with pytest.raises(RuntimeError, match="layer1.*forward first"):
        network.backward(np.ones((8, 3), np.float32))


def test_a_wrong_input_shape_gets_the_layers_own_error() -> None:
    network = image_network(np.random.default_rng(6))
    with pytest.raises(ValueError, match="Conv2D expected NHWC input"):
        network.infer(np.zeros((4, 64), np.float32))  # its shape breaks output_shape too


@pytest.mark.parametrize("size", [6, 2])  # the im2col path and the small-map (dense) path
def test_reused_weight_matrices_never_serve_other_weights(size: int) -> None:
    rng = np.random.default_rng(7)
    conv = Conv2D(3, 4, rng=rng)
    x = rng.standard_normal((2, size, size, 3)).astype(np.float32)

    def reference(weight, bias):
        twin = Conv2D(3, 4, rng=rng)
        twin.params["W"][...], twin.params["b"][...] = weight, bias
        return twin.forward(x)

    w1, b1 = rng.standard_normal(conv.params["W"].shape).astype(np.float32), np.ones(4, np.float32)
    assert np.array_equal(conv.infer_with(x, w1, b1), reference(w1, b1))
    assert np.array_equal(conv.infer_with(x, w1, b1), reference(w1, b1))  # the reused matrix
    assert np.array_equal(conv.forward(x, training=True), reference(conv.params["W"], conv.params["b"]))
    conv.params["W"] *= 2.0  # an update in place: the layer's own weights are never reused stale
    assert np.array_equal(conv.forward(x, training=True), reference(conv.params["W"], conv.params["b"]))
    w2 = w1 + 1.0
    assert np.array_equal(conv.infer_with(x, w2, b1), reference(w2, b1))
