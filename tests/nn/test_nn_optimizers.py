"""SGD and Adam: exact update rules, in-place float32 updates, frozen groups, validation."""

from __future__ import annotations

import numpy as np
import pytest

from tlkit.nn import SGD, Adam, ParamGroup


def make_group(name: str = "layer1", mult: float = 1.0, seed: int = 0) -> ParamGroup:
    rng = np.random.default_rng(seed)
    params = {"W": rng.standard_normal((3, 4)).astype(np.float32),
              "b": rng.standard_normal(4).astype(np.float32)}
    grads = {k: rng.standard_normal(v.shape).astype(np.float32) for k, v in params.items()}
    return ParamGroup(name, params, grads, lr_multiplier=mult)


@pytest.mark.parametrize("mult", [1.0, 0.1, 0.01, 2.5])
def test_plain_sgd_is_exactly_the_course_rule(mult: float) -> None:
    group = make_group(mult=mult)
    w_array = group.params["W"]
    before = {k: v.copy() for k, v in group.params.items()}
    lr = 0.03
    SGD(lr=lr).step([group])
    assert group.params["W"] is w_array  # in place
    for k in before:
        expected = before[k] - lr * mult * group.grads[k]
        assert group.params[k].dtype == np.float32
        np.testing.assert_array_equal(group.params[k], expected)


def test_zero_multiplier_group_untouched_bit_for_bit() -> None:
    frozen, live = make_group("layer1", mult=0.0), make_group("head", seed=1)
    before = {k: v.copy() for k, v in frozen.params.items()}
    for opt in (SGD(lr=0.1, momentum=0.9, weight_decay=0.1), Adam(lr=0.1, weight_decay=0.1)):
        for _ in range(3):
            opt.step([frozen, live])
        for k in before:
            assert frozen.params[k].tobytes() == before[k].tobytes()
        assert all(name != "layer1" for name, _ in opt.state)


def test_sgd_momentum_and_weight_decay() -> None:
    group = make_group()
    w0 = group.params["W"].astype(np.float64)
    g = group.grads["W"].astype(np.float64)
    opt = SGD(lr=0.1, momentum=0.9, weight_decay=0.01)
    opt.step([group])
    v1 = g + 0.01 * w0
    w1 = w0 - 0.1 * v1
    np.testing.assert_allclose(group.params["W"], w1, rtol=1e-5, atol=1e-6)
    opt.step([group])
    v2 = 0.9 * v1 + g + 0.01 * w1
    np.testing.assert_allclose(group.params["W"], w1 - 0.1 * v2, rtol=1e-5, atol=1e-6)
    assert ("layer1", "W") in opt.state
    assert opt.state[("layer1", "W")]["velocity"].dtype == np.float32
    opt.reset()
    assert opt.state == {}


def test_adam_first_step_by_hand() -> None:
    group = make_group(mult=0.5)
    w0 = group.params["W"].astype(np.float64)
    g = group.grads["W"].astype(np.float64)
    opt = Adam(lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    opt.step([group])
    m = 0.1 * g
    v = 0.001 * g * g
    m_hat, v_hat = m / 0.1, v / 0.001
    expected = w0 - 0.01 * 0.5 * m_hat / (np.sqrt(v_hat) + 1e-8)  # ~ w0 - 0.005 * sign(g)
    np.testing.assert_allclose(group.params["W"], expected, rtol=1e-5, atol=1e-7)
    assert group.params["W"].dtype == np.float32
    state = opt.state[("layer1", "W")]
    assert state["step"] == 1 and state["m"].dtype == np.float32
    np.testing.assert_allclose(state["m"], m, rtol=1e-5)


def test_adam_second_step_and_lr_change() -> None:
    group = make_group()
    opt = Adam(lr=0.01)
    w0 = group.params["b"].astype(np.float64)
    g = group.grads["b"].astype(np.float64)
    opt.step([group])
    w1 = group.params["b"].astype(np.float64)
    opt.lr = 0.001  # a schedule changes it between steps
    opt.step([group])
    m2 = 0.9 * (0.1 * g) + 0.1 * g
    v2 = 0.999 * (0.001 * g * g) + 0.001 * g * g
    step = 0.001 * (m2 / (1 - 0.9**2)) / (np.sqrt(v2 / (1 - 0.999**2)) + 1e-8)
    np.testing.assert_allclose(group.params["b"], w1 - step, rtol=1e-5, atol=1e-7)
    assert not np.allclose(w0, w1)


def test_state_is_keyed_by_group_and_param() -> None:
    a, b = make_group("layer1"), make_group("layer2", seed=3)
    opt = Adam()
    opt.step([a, b])
    assert set(opt.state) == {("layer1", "W"), ("layer1", "b"), ("layer2", "W"), ("layer2", "b")}


@pytest.mark.parametrize(
    ("factory", "argument"),
    [
        (lambda: SGD(lr=0), "lr"),
        (lambda: SGD(lr=-1.0), "lr"),
        (lambda: SGD(lr=float("nan")), "lr"),
        (lambda: SGD(momentum=1.0), "momentum"),
        (lambda: SGD(weight_decay=-0.1), "weight_decay"),
        (lambda: Adam(lr=0), "lr"),
        (lambda: Adam(betas=(1.0, 0.999)), r"betas\[0\]"),
        (lambda: Adam(betas=(0.9, -0.1)), r"betas\[1\]"),
        (lambda: Adam(betas=(0.9,)), "betas"),
        (lambda: Adam(eps=0), "eps"),
        (lambda: ParamGroup("x", {}, {}, lr_multiplier=-1.0), "lr_multiplier"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(factory, argument) -> None:
    with pytest.raises(ValueError, match=argument) as info:
        factory()
    assert "got" in str(info.value)


def test_missing_or_misshapen_gradient_is_an_error() -> None:
    group = make_group()
    del group.grads["b"]
    with pytest.raises(ValueError, match="'b'"):
        SGD().step([group])
    group = make_group()
    group.grads["W"] = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError, match="shape"):
        SGD().step([group])
