"""Each fast kernel (tlkit/nn/fast/) computes what its readable twin (tlkit/nn/*.py) computes.

The readable layers are the specification (each is checked against finite differences in
test_nn_gradients.py); here the fast twin, given the same parameters and the same input, must
give the same output, the same input gradient and the same parameter gradients.

Tolerance: both compute in float32 and sum in different orders (BLAS blocking, sums by GEMV,
the bias inside the product), so they differ by rounding: a few float32 ulps of the largest
terms per sum. We allow ``TOL = 1e-5`` of the largest magnitude of the reference (about 80 ulps
of it); a wrong index, sign, tap or tie rule moves results by O(1) of that scale.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tlkit.architectures import build_base, build_head
from tlkit.nn import BatchNorm, Conv2D, MaxPool2D, ReLU, engine, fast, softmax_cross_entropy
from tlkit.nn.fast import activations as fast_activations
from tlkit.nn.network import Network

TOL = 1e-5


def assert_same(fast_value: np.ndarray, reference: np.ndarray, what: str) -> None:
    assert fast_value.shape == reference.shape, what
    assert fast_value.dtype == reference.dtype, what
    scale = max(float(np.abs(reference).max()), 1e-30)
    err = float(np.abs(fast_value.astype(np.float64) - reference).max()) / scale
    assert err <= TOL, f"{what}: fast differs from readable by {err:.1e} of its scale"


def assert_same_step(readable, fast_layer, x: np.ndarray, training: bool, rng: np.random.Generator) -> None:
    """forward, then backward of a random upstream gradient: outputs and every gradient agree."""
    out_r = readable.forward(x.copy(), training=training)
    out_f = fast_layer.forward(x.copy(), training=training)
    assert_same(out_f, out_r, "output")
    g = rng.standard_normal(out_r.shape).astype(np.float32)
    assert_same(fast_layer.backward(g.copy()), readable.backward(g.copy()), "input gradient")
    for key in readable.params:
        assert_same(fast_layer.grads[key], readable.grads[key], f"gradient of {key}")
    for key in readable.buffers:
        assert_same(fast_layer.buffers[key], readable.buffers[key], f"buffer {key}")


def test_a_class_is_what_it_says_and_the_twin_is_the_readable_layer_specialised() -> None:
    with engine.using("fast"):  # the default engine of model builders never changes a class
        readable = Conv2D(1, 2, rng=np.random.default_rng(0))
    fast_conv = fast.Conv2D(1, 2, rng=np.random.default_rng(0))
    assert type(readable) is Conv2D and type(fast_conv) is fast.Conv2D
    assert isinstance(fast_conv, Conv2D)  # code that checks isinstance(layer, Conv2D) sees both
    assert np.array_equal(readable.params["W"], fast_conv.params["W"])  # same initialisation draw


# The shapes the models run: 3x3 'same' convolutions on one channel (tap-major im2col) and on
# many, maps from 28x28 down to the 2x2 and 1x1 maps that take the fast small-map path; plus
# other kernels and paddings the layer accepts.
CONV_CASES = [
    # (in, out, kernel, padding, (N, H, W))
    (1, 16, 3, "same", (4, 8, 8)),
    (1, 16, 3, "same", (2, 28, 28)),
    (16, 32, 3, "same", (4, 8, 8)),
    (16, 32, 3, "same", (2, 14, 14)),
    (32, 64, 3, "same", (4, 4, 4)),   # Winograd path (4x4 maps)
    (64, 64, 3, "same", (3, 4, 4)),   # Winograd path
    (8, 16, 3, "same", (1, 4, 4)),    # Winograd path, the fewest channels it takes, one image
    (4, 16, 3, "same", (2, 4, 4)),    # 4x4 map with too few channels for Winograd: im2col
    (16, 32, 3, "same", (2, 4, 5)),   # not square: im2col
    (64, 64, 3, "same", (4, 2, 2)),   # small-map path
    (64, 64, 3, "same", (4, 1, 1)),   # small-map path, only the centre tap sees input
    (3, 5, 3, "same", (3, 2, 3)),     # small-map path, a non-square map
    (3, 5, 5, "valid", (2, 7, 6)),
    (3, 5, 1, "same", (2, 5, 5)),
    (2, 4, 3, 1, (2, 6, 5)),
    (2, 4, 3, 2, (2, 4, 4)),          # more padding than 'same'
    (2, 4, (3, 1), "same", (2, 5, 4)),
    (2, 4, 4, "same", (2, 6, 6)),     # even kernel: the extra padding goes bottom/right
]


@pytest.mark.parametrize("cin, cout, kernel, padding, nhw", CONV_CASES)
def test_conv2d(make_twins, cin, cout, kernel, padding, nhw) -> None:
    rng = np.random.default_rng(cin * 100 + cout)
    readable, fast_conv = make_twins(lambda: Conv2D(cin, cout, kernel, padding, rng=np.random.default_rng(1)))
    readable.params["b"][...] = rng.standard_normal(cout)  # a non-zero bias
    fast_conv.params["b"][...] = readable.params["b"]
    x = rng.standard_normal((*nhw, cin)).astype(np.float32)
    assert_same_step(readable, fast_conv, x, True, rng)
    assert_same(fast_conv.infer(x), readable.infer(x), "infer")
    # a second step with updated weights: the fast twin's reused buffers must not serve stale values
    readable.params["W"] *= -0.5
    fast_conv.params["W"] *= -0.5
    assert_same_step(readable, fast_conv, rng.standard_normal(x.shape).astype(np.float32), True, rng)


@pytest.mark.parametrize("need_input_grad, need_param_grads", [(False, True), (True, False)])
def test_conv2d_partial_backward(make_twins, need_input_grad, need_param_grads) -> None:
    """A frozen layer (no param grads) or the first layer (no input grad) computes the same rest."""
    rng = np.random.default_rng(3)
    readable, fast_conv = make_twins(lambda: Conv2D(4, 6, rng=np.random.default_rng(2)))
    x = rng.standard_normal((3, 6, 6, 4)).astype(np.float32)
    g = rng.standard_normal((3, 6, 6, 6)).astype(np.float32)
    readable.forward(x, training=True)
    fast_conv.forward(x, training=True)
    dx_r = readable.backward(g, need_input_grad, need_param_grads)
    dx_f = fast_conv.backward(g, need_input_grad, need_param_grads)
    assert (dx_f is None) == (dx_r is None) == (not need_input_grad)
    if need_input_grad:
        assert_same(dx_f, dx_r, "input gradient")
    if need_param_grads:
        assert_same(fast_conv.grads["W"], readable.grads["W"], "gradient of W")


BN_SHAPES = [(64, 10), (8, 8, 8, 16), (4, 2, 2, 64), (32, 1, 1, 64), (5, 3, 3, 7)]


def trained_batchnorm(channels: int, rng: np.random.Generator, use_running_stats: bool = False):
    bn = BatchNorm(channels)
    bn.buffers["running_mean"][...] = rng.standard_normal(channels)
    bn.buffers["running_var"][...] = rng.uniform(0.2, 3.0, channels)
    bn.params["gamma"][...] = rng.uniform(0.5, 1.5, channels)
    bn.params["beta"][...] = rng.standard_normal(channels)
    bn.use_running_stats = use_running_stats
    return bn


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("mode", ["training", "inference", "running stats in training"])
def test_batchnorm(make_twins, shape, mode) -> None:
    """Batch statistics (and the running-statistics update), running statistics, and Keras's
    fine-tuning recipe (running statistics while gamma and beta learn)."""
    rng = np.random.default_rng(len(shape) * 10 + shape[-1])
    running = mode == "running stats in training"
    readable, fast_bn = make_twins(lambda: trained_batchnorm(shape[-1], np.random.default_rng(4), running))
    x = (3.0 + 2.0 * rng.standard_normal(shape)).astype(np.float32)  # |mean| > std
    assert_same_step(readable, fast_bn, x, mode != "inference", rng)
    assert_same(fast_bn.infer(x), readable.infer(x), "infer")


def test_batchnorm_far_from_zero_mean(make_twins) -> None:
    """Values near 100 with spread 0.1: a one-pass variance (E[x^2] - E[x]^2) would lose every digit
    in float32; both engines must stay near the float64 answer for the same inputs."""
    rng = np.random.default_rng(5)
    readable, fast_bn = make_twins(lambda: BatchNorm(4))
    x = (100.0 + 0.1 * rng.standard_normal((256, 4))).astype(np.float32)
    x64 = x.astype(np.float64)
    exact = (x64 - x64.mean(axis=0)) / np.sqrt(x64.var(axis=0) + 1e-5)
    for layer in (readable, fast_bn):
        np.testing.assert_allclose(layer.forward(x, training=True), exact, atol=2e-3)


def tied(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Small integers with flat regions: many windows hold their maximum twice or more."""
    x = rng.integers(-2, 3, size=shape).astype(np.float32)
    x[0] = 1.0  # one whole sample flat: every window is a four-way tie
    return x


@pytest.mark.parametrize("pool, shape", [(2, (4, 8, 8, 3)), (2, (3, 7, 5, 16)), (3, (2, 9, 7, 2)), (1, (2, 3, 3, 2)),
                                         (2, (2, 28, 28, 16)), (2, (5, 2, 2, 64))])
@pytest.mark.parametrize("values", ["ties", "distinct"])
def test_maxpool(make_twins, pool, shape, values) -> None:
    rng = np.random.default_rng(pool * 7 + shape[1])
    readable, fast_pool = make_twins(lambda: MaxPool2D(pool))
    x = tied(rng, shape) if values == "ties" else rng.standard_normal(shape).astype(np.float32)
    out_r, out_f = readable.forward(x, training=True), fast_pool.forward(x, training=True)
    assert np.array_equal(out_f, out_r)  # a max is exact: no rounding
    g = rng.standard_normal(out_r.shape).astype(np.float32)
    assert np.array_equal(fast_pool.backward(g), readable.backward(g))  # the same element of each window
    assert np.array_equal(fast_pool.infer(x), out_r)


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu(make_twins, inplace, dtype) -> None:
    """Bit-identical (a max and a product by 0 or 1 are exact), zeros and -0.0 included."""
    rng = np.random.default_rng(5)
    readable, fast_relu = make_twins(lambda: ReLU(inplace=inplace))
    x = rng.standard_normal((4, 3, 3, 5)).astype(dtype)
    x[0, 0, 0, :2] = [0.0, -0.0]
    out_r, out_f = readable.forward(x.copy(), training=True), fast_relu.forward(x.copy(), training=True)
    assert np.array_equal(out_f, out_r) and out_f.dtype == out_r.dtype
    g = rng.standard_normal(x.shape).astype(dtype)
    assert np.array_equal(fast_relu.backward(g), readable.backward(g))


def test_relu_above_the_shared_zeros_limit_and_the_buffer_stays_zero(monkeypatch, make_twins) -> None:
    monkeypatch.setattr(fast_activations, "ZEROS_LIMIT", 10)
    readable, fast_relu = make_twins(lambda: ReLU(inplace=True))
    x = np.linspace(-1, 1, 24, dtype=np.float32).reshape(2, 3, 4)  # 24 > 10: the scalar path
    assert np.array_equal(fast_relu.forward(x.copy(), training=True), readable.forward(x.copy(), training=True))
    small = fast_activations.zeros_like(np.ones(8, np.float32))
    assert not small.flags.writeable and not small.any()


def test_maxpool_tie_rule_by_hand() -> None:
    """The gradient of a window goes to its FIRST maximum in row-major order, on both engines."""
    x = np.array([[1.0, 3.0], [3.0, 3.0]], np.float32).reshape(1, 2, 2, 1)
    for pool in (MaxPool2D(2), fast.MaxPool2D(2)):
        assert pool.forward(x, training=True).item() == 3.0
        dx = pool.backward(np.full((1, 1, 1, 1), 5.0, np.float32))
        assert dx.reshape(2, 2).tolist() == [[0.0, 5.0], [0.0, 0.0]], type(pool)


def image_network(seed: int, architecture: str = "medium", shape=(8, 8), engine_name: str = "readable") -> Network:
    rng = np.random.default_rng(seed)
    blocks = build_base(architecture, shape, rng, engine_name)
    n_features = int(np.prod(_sample_shape(blocks, (*shape, 1))))
    return engine.layers(engine_name).Network(blocks + [build_head(n_features, 3, rng, engine=engine_name)])


def _sample_shape(blocks, shape):
    for block in blocks:
        shape = block.output_shape(shape)
    return shape


@pytest.mark.parametrize("architecture, shape", [("simple", (8, 8)), ("medium", (8, 8)), ("deep", (8, 8)),
                                                 ("medium", (12, 12)), ("medium", (16,))])
def test_a_whole_training_step_and_inference_agree_and_checkpoints_move_between_engines(architecture, shape) -> None:
    """Same checkpoint, same batch: logits, every gradient, the running statistics after the step,
    and the inference path (folded BatchNorm, ReLU after the pool, chunks) agree across the engines,
    for a network built on the fast engine and for one converted to it."""
    def build(seed: int, name: str) -> Network:
        if len(shape) == 2:
            return image_network(seed, architecture, shape, name)
        return vector_network(shape[0], seed, name)

    readable_net = build(1, "readable")
    fast_net = build(0, "fast")
    readable_net.load_state_dict(fast_net.state_dict())
    converted = fast.convert(readable_net)
    assert type(fast_net) is type(converted) is fast.Network and type(readable_net) is Network
    assert {type(layer) for block in converted.blocks for _, layer in block.layers} == {
        type(layer) for block in fast_net.blocks for _, layer in block.layers}
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, *shape, 1) if len(shape) == 2 else (16, *shape)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    results = {}
    for name, net in (("fast", fast_net), ("converted", converted), ("readable", readable_net)):
        logits = net.forward(x, training=True)
        net.backward(softmax_cross_entropy(logits, y)[1])
        grads = {(g.name, k): v.copy() for g in net.param_groups() for k, v in g.grads.items()}
        results[name] = logits, grads, net.state_dict(), net.infer(x)
    for name in ("fast", "converted"):
        assert_same(results[name][0], results["readable"][0], "logits")
        # Gradients pass through every layer above them: allow 1e-4 of each one's scale, and no less
        # than 1e-6 of the largest gradient (a bias before a BatchNorm has a true gradient of exactly 0:
        # both engines give rounding noise there).
        largest = max(float(np.abs(v).max()) for v in results["readable"][1].values())
        for key, value in results["readable"][1].items():
            scale = max(float(np.abs(value).max()), 1e-2 * largest)
            assert float(np.abs(results[name][1][key] - value).max()) <= 1e-4 * scale, key
        for key, value in results["readable"][2].items():
            assert_same(results[name][2][key], value, key)
        assert_same(results[name][3], results["readable"][3], "infer")


def vector_network(features: int, seed: int = 0, engine_name: str = "readable") -> Network:
    rng = np.random.default_rng(seed)
    blocks = build_base("medium", (features,), rng, engine_name)
    head = build_head(int(np.prod(_sample_shape(blocks, (features,)))), 3, rng, engine=engine_name)
    return engine.layers(engine_name).Network(blocks + [head])


def test_engine_switch_rejects_unknown_names() -> None:
    before = engine.name()
    with pytest.raises(ValueError, match="'readable', 'fast'.*'slow'"):
        engine.use("slow")
    assert engine.name() == before


@pytest.mark.parametrize("value, expected", [("readable", "readable tlkit.nn.conv readable"),
                                             ("fast", "fast tlkit.nn.conv fast"),
                                             ("turbo", "ValueError: TLKIT_ENGINE must be one of 'readable', 'fast'")])
def test_the_environment_variable_picks_the_engine_models_are_built_on(value, expected) -> None:
    """``TLKIT_ENGINE`` decides what ``PretrainedModel`` builds; ``Conv2D(...)`` stays the readable class."""
    code = ("import numpy as np\n"
            "try:\n"
            "    from tlkit import PretrainedModel\n"
            "    from tlkit.nn import Conv2D, engine\n"
            "except ValueError as error:\n"
            "    print(f'ValueError: {error}')\n"
            "else:\n"
            "    conv = Conv2D(1, 1, rng=np.random.default_rng(0))\n"
            "    print(engine.name(), type(conv).__module__, PretrainedModel('simple').engine)\n")
    env = {**os.environ, "TLKIT_ENGINE": value}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.startswith(expected), result.stderr
