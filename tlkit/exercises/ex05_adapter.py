"""Exercise 05.1: the adapter's forward and backward pass (course Part 5, domain adaptation).

A residual bottleneck adapter on every pixel's channel vector (the last axis of ``x``, C
channels; view ``x`` as rows ``x2 = x.reshape(-1, C)``)::

    z = x2 @ W_down + b_down          (C -> r)
    h = relu(z)
    y = x2 + h @ W_up + b_up          (r -> C), reshaped back to x's shape

and, for an upstream gradient ``g = dL/dy`` (the shape of ``y``), the chain rule bottom up::

    dW_up = h.T @ g      db_up = sum of g over the rows      dh = g @ W_up.T
    dz = dh * (z > 0)
    dW_down = x2.T @ dz  db_down = sum of dz over the rows   dx = g + dz @ W_down.T

``adapter_forward_backward(x, params, grad_out)`` returns ``(y, grads)`` with ``grads`` a dict
``{"x", "W_down", "b_down", "W_up", "b_up"}``, each in the shape and dtype of what it
differentiates; it does not modify its inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tlkit.exercises.compare import expect_array, type_name
from tlkit.exercises.registry import Case, CheckFailure, Exercise

PARAMS = ("W_down", "b_down", "W_up", "b_up")
GRAD_KEYS = ("x", *PARAMS)


def apply(fn: Callable, inputs: dict[str, Any]) -> dict[str, Any]:
    x, params, grad_out = inputs["x"], inputs["params"], inputs["grad_out"]
    before = (x.copy(), {k: v.copy() for k, v in params.items()}, grad_out.copy())
    result = fn(x, params, grad_out)
    unchanged = (np.array_equal(x, before[0]) and np.array_equal(grad_out, before[2])
                 and sorted(params) == sorted(before[1])
                 and all(np.array_equal(params[k], v) for k, v in before[1].items()))
    return {"result": result, "inputs_unchanged": bool(unchanged)}


def _rows(case: Case) -> tuple[np.ndarray, ...]:
    """The quantities a diagnosis needs, in float64: x2, g, z, W_down, W_up."""
    inputs = case.inputs
    p = {k: np.asarray(v, np.float64) for k, v in inputs["params"].items()}
    channels = p["W_down"].shape[0]
    x2 = np.asarray(inputs["x"], np.float64).reshape(-1, channels)
    g = np.asarray(inputs["grad_out"], np.float64).reshape(-1, channels)
    z = x2 @ p["W_down"] + p["b_down"]
    return x2, g, z, p["W_down"], p["W_up"]


def _close(got: Any, want: np.ndarray) -> bool:
    return (type(got) is np.ndarray and got.shape == want.shape and got.dtype.kind == "f"
            and bool(np.all(np.isfinite(got))) and bool(np.allclose(got, want, rtol=1e-4, atol=1e-6)))


def _diagnose(case: Case, grads: dict) -> None:
    """Name the classic mistakes before the generic value check."""
    x2, g, z, W_down, W_up = _rows(case)
    shape = case.inputs["x"].shape
    dz = (g @ W_up.T) * (z > 0)
    if _close(grads["x"], (dz @ W_down.T).reshape(shape)) and np.any(g):
        raise CheckFailure("dx_no_skip", "grads['x'] is missing the skip connection's share: "
                                         "y = x + ..., so dL/dx gets g itself plus dz @ W_down.T")
    no_mask = g @ W_up.T
    if np.any(z <= 0) and np.any(no_mask[z <= 0]) and (
            _close(grads["W_down"], x2.T @ no_mask) or _close(grads["b_down"], no_mask.sum(axis=0))):
        raise CheckFailure("relu_mask", "the gradient reaches W_down through the ReLU: multiply "
                                        "dh by (z > 0) before using it")
    for key, want in (("W_down", x2.T @ dz), ("W_up", np.maximum(z, 0).T @ g)):
        got = grads[key]
        if type(got) is np.ndarray and got.shape == want.T.shape and want.shape != want.T.shape:
            raise CheckFailure("wrong_shape", f"grads['{key}'] has shape {got.shape}, expected "
                                              f"{want.shape} (the shape of params['{key}'])")


def compare(case: Case, expected: dict, got: dict) -> None:
    result = got["result"]
    if type(result) not in (tuple, list) or len(result) != 2:
        raise CheckFailure("no_return" if result is None else "wrong_type",
                           f"the function should return a pair (y, grads), got {type_name(result)}")
    y, grads = result
    want_y, want_grads = expected["result"]
    float32 = case.inputs["x"].dtype == np.float32
    rtol, atol = (1e-4, 1e-5) if float32 else (1e-6, 1e-9)
    expect_array(y, want_y, "y (the adapter's output)", rtol=rtol, atol=atol, kind="wrong_output")
    if type(grads) is not dict:
        raise CheckFailure("wrong_type", f"grads should be a dict, got {type_name(grads)}")
    if sorted(grads) != sorted(GRAD_KEYS):
        raise CheckFailure("wrong_keys", f"grads has the keys {sorted(grads)}, expected {sorted(GRAD_KEYS)}")
    _diagnose(case, grads)
    for key in GRAD_KEYS:
        expect_array(grads[key], want_grads[key], f"grads['{key}']", rtol=rtol, atol=atol,
                     kind="wrong_gradient")
    if not got["inputs_unchanged"]:
        raise CheckFailure("mutated_input", "an input (x, grad_out or an array of params) was changed")


def make_case(name: str, seed: int, shape: tuple[int, ...], bottleneck: int, *, dtype=np.float64,
              identity: bool = False, hidden: bool = False) -> Case:
    """Random inputs: x of ``shape`` (its last axis the channels), an adapter of ``bottleneck``
    units (``identity``: W_up and b_up zero, as at construction), an upstream gradient."""
    rng = np.random.default_rng(seed)
    channels = shape[-1]
    params = {
        "W_down": rng.normal(scale=1 / np.sqrt(channels), size=(channels, bottleneck)),
        "b_down": rng.normal(scale=0.3, size=bottleneck),
        "W_up": np.zeros((bottleneck, channels)) if identity else rng.normal(size=(bottleneck, channels)),
        "b_up": np.zeros(channels) if identity else rng.normal(scale=0.3, size=channels),
    }
    inputs = {"x": rng.normal(size=shape).astype(dtype),
              "params": {k: v.astype(dtype) for k, v in params.items()},
              "grad_out": rng.normal(size=shape).astype(dtype)}
    return Case(name, inputs, hidden)


def _blocking_relu_case() -> Case:
    """Two rows, two channels, one bottleneck unit: the second row's z is negative."""
    params = {"W_down": np.array([[1.0], [1.0]]), "b_down": np.array([0.0]),
              "W_up": np.array([[2.0, -1.0]]), "b_up": np.array([0.5, 0.0])}
    return Case("a ReLU that is off blocks the gradient (hand-sized)",
                {"x": np.array([[1.0, 2.0], [-1.0, -3.0]]), "params": params,
                 "grad_out": np.array([[1.0, 0.0], [0.5, 2.0]])})


PUBLIC_CASES = (
    _blocking_relu_case(),
    make_case("a new adapter (W_up = 0, b_up = 0) is the identity", 1, (4, 3), 2, identity=True),
    make_case("vectors: 5 rows, 6 channels, a bottleneck of 2", 2, (5, 6), 2),
    make_case("feature maps (N, H, W, C): every pixel is a row", 3, (2, 3, 3, 4), 2),
    make_case("a bottleneck of one unit", 4, (3, 5), 1),
    make_case("float32 in, float32 out", 5, (2, 2, 2, 8), 3, dtype=np.float32),
)


EXERCISE = Exercise(
    id="05.1",
    part=5,
    title="The adapter's forward and backward pass",
    name="adapter_forward_backward",
    points=10.0,
    description=(
        "adapter_forward_backward(x, params, grad_out) -> (y, grads): y = x + relu(x @ W_down + "
        "b_down) @ W_up + b_up on the last (channel) axis of x, and the gradients of the loss for "
        "the upstream gradient grad_out = dL/dy: a dict with keys 'x', 'W_down', 'b_down', 'W_up', "
        "'b_up', each in the shape and dtype of what it differentiates. Do not modify the inputs."
    ),
    public_cases=PUBLIC_CASES,
    apply=apply,
    compare=compare,
    hints={
        "default": "View x and grad_out as rows of C channels (`.reshape(-1, C)`); forward: z, "
        "h = relu(z), y = x2 + h @ W_up + b_up; backward: dW_up = h.T @ g, db_up = g.sum(0), "
        "dz = (g @ W_up.T) * (z > 0), dW_down = x2.T @ dz, db_down = dz.sum(0), dx = g + dz @ W_down.T.",
        "wrong_output": "y = x2 + relu(x2 @ W_down + b_down) @ W_up + b_up, reshaped to x.shape: "
        "do not forget the skip connection (x2 +) and both biases.",
        "dx_no_skip": "y = x + f(x), so dL/dx = g + (what flows back through f): add grad_out itself.",
        "relu_mask": "relu lets the gradient through only where z > 0: `dz = dh * (z > 0)`.",
        "wrong_gradient": "Go bottom up through the three lines of the forward pass: each product "
        "A @ B gives dA = dOut @ B.T and dB = A.T @ dOut; each bias gets the sum of its rows' gradients.",
        "wrong_shape": "Each gradient has the shape of what it differentiates: grads['W_down'] "
        "like params['W_down'] (C, r), grads['x'] like x (reshape back with `.reshape(x.shape)`).",
        "wrong_keys": "Return grads with exactly the keys 'x', 'W_down', 'b_down', 'W_up', 'b_up'.",
        "wrong_dtype": "Keep the inputs' dtype: NumPy keeps float32 as long as you do not mix in "
        "float64 arrays (a Python float is fine).",
        "mutated_input": "Compute new arrays (`x2 + ...`), never `+=` into x, grad_out or params.",
        "wrong_type": "Return a pair: `return y, grads`, with grads a dict of arrays.",
        "exception": "Read the error message; x may be (N, C) or (N, H, W, C): reshape it to "
        "(-1, C) rows first, and reshape y and grads['x'] back to x.shape.",
    },
    library_names=(
        "tlkit.nn.adapter",
        "tlkit.nn.adapter.adapter_forward_backward",
        "tlkit.nn.adapter.adapter_forward",
        "tlkit.nn.adapter.adapter_backward",
        "tlkit.nn.Adapter",
    ),
    fallback="tlkit.nn.adapter.adapter_forward_backward",
)
