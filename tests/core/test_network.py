"""Frozen means frozen: no gradient, no update, BatchNorm in inference mode, backward stops early."""

import numpy as np
import pytest

from tlkit.architectures import build_base, build_head
from tlkit.config import TrainingConfig
from tlkit.nn import Dense, Flatten, MaxPool2D, ReLU, fast, softmax_cross_entropy
from tlkit.nn.fast.inference import execution_order
from tlkit.nn.network import Block, Network
from tlkit.training import Trainer


def small_network(architecture="medium", shape=(8, 8), classes=3, seed=0):
    rng = np.random.default_rng(seed)
    base = build_base(architecture, shape, rng)
    features = Network(base).forward(np.zeros((1, *shape, 1), np.float32)).shape[1]
    return Network(base + [build_head(features, classes, rng)])


def data(n=24, shape=(8, 8), classes=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((n, *shape, 1), dtype=np.float32), rng.integers(0, classes, n)


def test_frozen_blocks_are_bitwise_unchanged_after_training_with_a_large_learning_rate():
    net = small_network()
    for name in ("layer1", "layer2"):
        net[name].trainable = False
    before = net.state_dict()
    X, y = data()
    Trainer(net, TrainingConfig(epochs=3, learning_rate=0.5, batch_size=8, optimizer="sgd")).fit(X, y)
    after = net.state_dict()
    for key in before:
        if key.startswith(("layer1.", "layer2.")):
            assert np.array_equal(before[key], after[key]), key
    changed = [k for k in before if k.startswith("layer3.conv.W") and not np.array_equal(before[k], after[k])]
    assert changed, "a trainable block should have moved"


def test_frozen_batchnorm_running_statistics_are_untouched():
    net = small_network()
    net["layer1"].trainable = False
    before = net.state_dict()
    X, y = data()
    Trainer(net, TrainingConfig(epochs=2, learning_rate=0.01, batch_size=8)).fit(X, y)
    after = net.state_dict()
    assert np.array_equal(before["layer1.bn.running_mean"], after["layer1.bn.running_mean"])
    assert np.array_equal(before["layer1.bn.running_var"], after["layer1.bn.running_var"])
    assert not np.array_equal(before["layer2.bn.running_mean"], after["layer2.bn.running_mean"])


def test_backward_stops_at_the_lowest_trainable_block():
    net = small_network()
    for block in net.blocks[:-1]:
        block.trainable = False
    calls = []
    for block in net.blocks:
        for _, layer in block.layers:
            original = layer.backward

            def spy(grad, *args, _name=block.name, _orig=original, **kwargs):
                calls.append(_name)
                return _orig(grad, *args, **kwargs)

            layer.backward = spy
    X, y = data(n=8)
    Trainer(net, TrainingConfig(epochs=1, batch_size=8)).fit(X, y)
    assert set(calls) == {"head"}


def test_a_frozen_block_between_trainable_blocks_passes_gradients_but_keeps_its_weights():
    net = small_network()
    net["layer2"].trainable = False
    before = net.state_dict()
    X, y = data()
    Trainer(net, TrainingConfig(epochs=2, learning_rate=0.05, batch_size=8)).fit(X, y)
    after = net.state_dict()
    assert np.array_equal(before["layer2.conv.W"], after["layer2.conv.W"])
    assert not np.array_equal(before["layer1.conv.W"], after["layer1.conv.W"])


def test_param_groups_cover_trainable_blocks_only_with_their_multipliers():
    net = small_network()
    net["layer1"].trainable = False
    groups = net.param_groups({"layer2": 0.1})
    assert [g.name for g in groups] == ["layer2", "layer3", "layer4", "head"]
    assert groups[0].lr_multiplier == 0.1 and groups[1].lr_multiplier == 1.0


def test_state_dict_round_trip_and_shape_mismatch():
    net, other = small_network(seed=0), small_network(seed=1)
    other.load_state_dict(net.state_dict())
    X, _ = data(n=4)
    assert np.array_equal(net.forward(X), other.forward(X))
    bad = net.state_dict()
    bad["layer1.conv.W"] = np.zeros((1, 1))
    with pytest.raises(ValueError, match="layer1.conv.W"):
        other.load_state_dict(bad)
    with pytest.raises(ValueError, match="missing"):
        other.load_state_dict({})


def test_relu_before_a_pool_runs_after_it_with_identical_outputs_and_gradients() -> None:
    """The fast Block swaps (ReLU, MaxPool2D); on the same layers, flat all-zero and tied inputs
    must give the readable Block's outputs and gradients to the bit."""

    def build(block_class) -> Network:
        rng = np.random.default_rng(0)
        layers = [("conv", fast.Conv2D(1, 4, rng=rng)), ("bn", fast.BatchNorm(4)), ("relu", fast.ReLU()),
                  ("pool", fast.MaxPool2D(2))]
        head = [("flatten", Flatten()), ("fc", Dense(4 * 3 * 3, 3, rng))]
        return Network([block_class("layer1", layers), Block("head", head)])

    x = np.round(np.random.default_rng(1).standard_normal((6, 6, 6, 1))).astype(np.float32)
    x[:2] = 0.0
    y = np.array([0, 1, 2, 0, 1, 2])

    def run(block_class) -> tuple[np.ndarray, list[np.ndarray]]:
        net = build(block_class)
        logits = net.forward(x, training=True)
        net.backward(softmax_cross_entropy(logits, y)[1])
        return logits, [g.copy() for group in net.param_groups() for g in group.grads.values()]

    order = execution_order([ReLU(), MaxPool2D(2), ReLU()])
    assert [type(layer).__name__ for layer in order] == ["MaxPool2D", "ReLU", "ReLU"]
    swapped, plain = run(fast.Block), run(Block)
    assert np.array_equal(swapped[0], plain[0])
    assert all(np.array_equal(a, b) for a, b in zip(swapped[1], plain[1], strict=True))


@pytest.mark.parametrize("breakage", ["shape", "nan", "text"])
def test_a_failed_load_changes_nothing(breakage):
    # The bad entry is the last key, so an assign-as-you-check load would already have
    # overwritten every other array when it raises.
    net, other = small_network(seed=0), small_network(seed=1)
    before = other.state_dict()
    bad = net.state_dict()
    last = list(bad)[-1]
    bad[last] = {"shape": np.zeros((1, 1)), "nan": np.full_like(bad[last], np.nan),
                 "text": np.full(bad[last].shape, "x")}[breakage]
    with pytest.raises(ValueError, match=last.replace(".", r"\.")):
        other.load_state_dict(bad)
    after = other.state_dict()
    assert all(np.array_equal(before[key], after[key]) for key in before)
