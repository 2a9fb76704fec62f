"""Exercise 03.1: the per-layer SGD update of fine-tuning.

Each named block has its own learning-rate multiplier (discriminative learning rates:
small for early blocks, 1.0 for the new head), and frozen blocks do not move at all::

    w <- w - base_lr * multipliers[name] * grad     for every trainable name
    w unchanged, bit for bit                        for every frozen name
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tlkit.exercises.checking import as_array, expect_close, expect_dtype, fmt
from tlkit.exercises.registry import Case, CheckFailure, Exercise

FUNCTION_NAME = "per_layer_sgd_update"


def per_layer_sgd_update(
    weights: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    base_lr: float,
    multipliers: dict[str, float],
    frozen: set[str],
) -> dict[str, np.ndarray]:
    """Reference: a new dict of updated weights; frozen ones copied unchanged."""
    new_weights = {}
    for name, w in weights.items():
        if name in frozen:
            new_weights[name] = w.copy()
        else:
            step = base_lr * multipliers.get(name, 1.0) * grads[name]
            new_weights[name] = (w - step).astype(w.dtype, copy=False)
    return new_weights


def _weights(names: tuple[str, ...], seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shapes = [(3, 2), (2,), (2, 4), (4,), (4, 3)]
    return {
        name: rng.normal(size=shapes[i % len(shapes)]).astype(np.float32)
        for i, name in enumerate(names)
    }


def _grads(weights: dict[str, np.ndarray], seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.normal(size=w.shape).astype(np.float32) for name, w in weights.items()}


def _copy(d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: a.copy() for name, a in d.items()}


def _run(fn: Callable, weights: dict, grads: dict, base_lr: float, multipliers: dict,
         frozen: set) -> dict[str, np.ndarray]:
    """Call the student's function on copies, check the result against the reference."""
    args = (_copy(weights), _copy(grads), base_lr, dict(multipliers), set(frozen))
    out = fn(*args)
    if not isinstance(out, dict):
        got = "None" if out is None else type(out).__name__
        raise CheckFailure(
            "no_return" if out is None else "wrong_type",
            f"the function should return a dict, got {got}",
        )
    if sorted(out) != sorted(weights):
        raise CheckFailure(
            "wrong_keys",
            f"the returned dict has the names {sorted(out)}, expected {sorted(weights)}",
        )
    expected = per_layer_sgd_update(weights, grads, base_lr, multipliers, frozen)
    for name in weights:
        arr = as_array(out[name], f"the new `{name}`")
        if name in frozen:
            if arr.shape != weights[name].shape or arr.dtype != weights[name].dtype or (
                not np.array_equal(arr, weights[name])
            ):
                raise CheckFailure(
                    "frozen_changed", f"`{name}` is frozen but changed: {fmt(arr)}, "
                    f"expected {fmt(weights[name])}",
                )
            continue
        expect_close(arr, expected[name], f"the new `{name}`", rtol=1e-5, atol=1e-7)
        expect_dtype(arr, weights[name].dtype, f"the new `{name}`")
    return out


def _case_all_trainable(fn: Callable) -> None:
    weights = _weights(("layer1", "layer2", "head"))
    _run(fn, weights, _grads(weights), 0.1, {"layer1": 1.0, "layer2": 1.0, "head": 1.0}, set())


def _case_frozen(fn: Callable) -> None:
    weights = _weights(("layer1", "layer2", "head"), seed=2)
    _run(fn, weights, _grads(weights, seed=3), 0.5,
         {"layer1": 1.0, "layer2": 1.0, "head": 1.0}, {"layer1"})


def _case_small_multiplier(fn: Callable) -> None:
    weights = _weights(("layer1", "layer2", "head"), seed=4)
    _run(fn, weights, _grads(weights, seed=5), 0.1,
         {"layer1": 0.01, "layer2": 0.1, "head": 1.0}, set())


def _case_missing_multiplier(fn: Callable) -> None:
    weights = _weights(("layer1", "layer2", "head"), seed=6)
    _run(fn, weights, _grads(weights, seed=7), 0.05, {"layer1": 0.01}, set())


def _case_frozen_without_grad(fn: Callable) -> None:
    # frozen blocks get no gradient at all in the engine: grads may omit them
    weights = _weights(("layer1", "layer2", "layer3", "head"), seed=8)
    grads = _grads(weights, seed=9)
    del grads["layer1"], grads["layer2"]
    _run(fn, weights, grads, 0.1, {"layer3": 0.1, "head": 1.0}, {"layer1", "layer2"})


def _case_all_frozen(fn: Callable) -> None:
    weights = _weights(("layer1", "layer2"), seed=10)
    _run(fn, weights, _grads(weights, seed=11), 0.1, {}, {"layer1", "layer2"})


def _case_no_mutation(fn: Callable) -> None:
    weights = _weights(("layer1", "layer2", "head"), seed=12)
    grads = _grads(weights, seed=13)
    w_before, g_before = _copy(weights), _copy(grads)
    multipliers = {"layer1": 0.01, "layer2": 0.1}
    frozen = {"layer1"}
    out = fn(weights, grads, 0.1, multipliers, frozen)
    if out is weights:
        raise CheckFailure("mutated_input", "the function returned the `weights` dict itself")
    for name in w_before:
        if name not in weights or not np.array_equal(weights[name], w_before[name]):
            raise CheckFailure("mutated_input", f"the input array `weights['{name}']` changed")
        if name not in grads or not np.array_equal(grads[name], g_before[name]):
            raise CheckFailure("mutated_input", f"the input array `grads['{name}']` changed")
    if sorted(weights) != sorted(w_before) or multipliers != {"layer1": 0.01, "layer2": 0.1} or (
        frozen != {"layer1"}
    ):
        raise CheckFailure("mutated_input", "an input dict or set was changed")
    _run(fn, w_before, g_before, 0.1, {"layer1": 0.01, "layer2": 0.1}, {"layer1"})


EXERCISE = Exercise(
    id="03.1",
    title="The per-layer update rule",
    function_name=FUNCTION_NAME,
    reference=per_layer_sgd_update,
    description=(
        "per_layer_sgd_update(weights, grads, base_lr, multipliers, frozen): return a new "
        "dict with w - base_lr * multipliers.get(name, 1.0) * grads[name] for every "
        "trainable name and the frozen arrays unchanged; do not modify the inputs."
    ),
    cases=(
        Case("every layer trainable", _case_all_trainable),
        Case("a frozen layer", _case_frozen),
        Case("a multiplier of 0.01 for an early layer", _case_small_multiplier),
        Case("a missing multiplier means 1.0", _case_missing_multiplier),
        Case("frozen layers without a gradient", _case_frozen_without_grad),
        Case("every layer frozen", _case_all_frozen),
        Case("the inputs are not modified", _case_no_mutation),
    ),
    hints={
        "default": "For each name in weights: if it is in `frozen`, keep the array as it is; "
        "otherwise compute `w - base_lr * multipliers.get(name, 1.0) * grads[name]`. Put the "
        "results in a new dict.",
        "wrong_value": "Each trainable weight moves by base_lr * multiplier * grad, against "
        "the gradient (minus sign), with the multiplier of its own name "
        "(`multipliers.get(name, 1.0)`).",
        "frozen_changed": "Skip the update for every name in `frozen`: frozen means not a "
        "single bit changes.",
        "mutated_input": "Build a new dict and new arrays: `w - step` creates a new array, "
        "while `w -= step` changes the caller's array in place.",
        "wrong_keys": "Return one entry per name in `weights`, frozen ones included.",
        "wrong_dtype": "Keep each weight's dtype (float32): multiply by Python floats, or "
        "use `.astype(w.dtype)`.",
        "wrong_type": "Return a dict name -> array.",
        "exception": "A name missing from `multipliers` means 1.0 (`multipliers.get(name, "
        "1.0)`), and a frozen name may have no gradient, so only read `grads[name]` for "
        "trainable names.",
    },
)
