"""Exercise 03.1: the per-layer SGD update of fine-tuning.

Each named block has its own learning-rate multiplier (discriminative learning rates:
small for early blocks, 1.0 for the new head), and frozen blocks do not move at all::

    w <- w - base_lr * multipliers[name] * grad     for every trainable name
    w unchanged, bit for bit                        for every frozen name
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tlkit.exercises.compare import expect_array, fmt, type_name
from tlkit.exercises.registry import Case, CheckFailure, Exercise


def apply(fn: Callable, inputs: dict[str, Any]) -> dict[str, Any]:
    weights, grads = inputs["weights"], inputs["grads"]
    multipliers, frozen = inputs["multipliers"], set(inputs["frozen"])
    before = ({k: v.copy() for k, v in weights.items()}, {k: v.copy() for k, v in grads.items()},
              dict(multipliers), set(frozen))
    result = fn(weights, grads, inputs["base_lr"], multipliers, frozen)
    unchanged = (
        sorted(weights) == sorted(before[0]) and sorted(grads) == sorted(before[1])
        and all(np.array_equal(weights[k], v) for k, v in before[0].items())
        and all(np.array_equal(grads[k], v) for k, v in before[1].items())
        and multipliers == before[2] and frozen == before[3]
    )
    return {"result": result, "inputs_unchanged": bool(unchanged) and result is not weights}


def compare(case: Case, expected: dict, got: dict) -> None:
    result, want = got["result"], expected["result"]
    weights, frozen = case.inputs["weights"], set(case.inputs["frozen"])
    if type(result) is not dict:
        raise CheckFailure("no_return" if result is None else "wrong_type",
                           f"the function should return a dict, got {type_name(result)}")
    if sorted(result) != sorted(want):
        raise CheckFailure("wrong_keys", f"the returned dict has the names {sorted(result)}, "
                                         f"expected {sorted(want)}")
    for name in want:
        arr = result[name]
        if name in frozen:
            if type(arr) is not np.ndarray or arr.shape != weights[name].shape or (
                    arr.dtype != weights[name].dtype or not np.array_equal(arr, weights[name])):
                raise CheckFailure("frozen_changed", f"`{name}` is frozen but changed: "
                                                     f"{fmt(arr)}, expected {fmt(weights[name])}")
            continue
        expect_array(arr, want[name], f"the new `{name}`", rtol=1e-5, atol=1e-7)
    if not got["inputs_unchanged"]:
        raise CheckFailure("mutated_input", "an input (an array of `weights` or `grads`, or "
                                            "the dict or set itself) was changed")


_SHAPES = [(3, 2), (2,), (2, 4), (4,), (4, 3)]


def _case(name: str, names: list[str], base_lr: float, multipliers: dict[str, float],
          frozen: list[str], seed: int, drop_frozen_grads: bool = False,
          hidden: bool = False) -> Case:
    rng = np.random.default_rng(seed)
    weights = {n: rng.normal(size=_SHAPES[i % len(_SHAPES)]).astype(np.float32)
               for i, n in enumerate(names)}
    grads = {n: rng.normal(size=w.shape).astype(np.float32) for n, w in weights.items()
             if not (drop_frozen_grads and n in frozen)}
    return Case(name, {"weights": weights, "grads": grads, "base_lr": float(base_lr),
                       "multipliers": dict(multipliers), "frozen": list(frozen)}, hidden)


_THREE = ["layer1", "layer2", "head"]
PUBLIC_CASES = (
    _case("every layer trainable", _THREE, 0.1, {"layer1": 1.0, "layer2": 1.0, "head": 1.0},
          [], 0),
    _case("a frozen layer", _THREE, 0.5, {"layer1": 1.0, "layer2": 1.0, "head": 1.0},
          ["layer1"], 2),
    _case("a multiplier of 0.01 for an early layer", _THREE, 0.1,
          {"layer1": 0.01, "layer2": 0.1, "head": 1.0}, [], 4),
    _case("a missing multiplier means 1.0", _THREE, 0.05, {"layer1": 0.01}, [], 6),
    _case("frozen layers without a gradient", ["layer1", "layer2", "layer3", "head"], 0.1,
          {"layer3": 0.1, "head": 1.0}, ["layer1", "layer2"], 8, drop_frozen_grads=True),
    _case("every layer frozen", ["layer1", "layer2"], 0.1, {}, ["layer1", "layer2"], 10),
    _case("the inputs are not modified", _THREE, 0.1, {"layer1": 0.01, "layer2": 0.1},
          ["layer1"], 12),
)


EXERCISE = Exercise(
    id="03.1",
    part=3,
    title="The per-layer update rule",
    name="per_layer_sgd_update",
    points=10.0,
    description=(
        "per_layer_sgd_update(weights, grads, base_lr, multipliers, frozen): return a new "
        "dict with w - base_lr * multipliers.get(name, 1.0) * grads[name] for every "
        "trainable name and the frozen arrays unchanged; do not modify the inputs."
    ),
    public_cases=PUBLIC_CASES,
    apply=apply,
    compare=compare,
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
    library_names=(
        "tlkit.nn.optimizers",
        "tlkit.nn.optimizers.ParamGroup",
        "tlkit.strategies.discriminative",
    ),
)
