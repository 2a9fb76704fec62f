"""Numerical gradient checking for layers (used by the tests and the course notebooks)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tlkit.nn.layer import Layer

__all__ = ["check_layer_gradients", "numerical_gradient", "relative_error"]


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """Central-difference gradient of the scalar ``f(x)`` w.r.t. ``x`` (float64).

    ``x`` is perturbed in place one entry at a time and restored afterwards, so
    ``f`` may read ``x`` through a reference (e.g. a layer's parameter).
    """
    if x.dtype != np.float64:
        raise TypeError(f"x must be a float64 array for a numerical gradient, got {x.dtype}")
    grad = np.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    for i in range(flat_x.size):
        old = flat_x[i]
        flat_x[i] = old + eps
        f_plus = float(f(x))
        flat_x[i] = old - eps
        f_minus = float(f(x))
        flat_x[i] = old
        flat_g[i] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """Max over entries of |a - n| / max(|a| + |n|, 1e-3 * scale), scale = max |a|, |n|.

    The floor keeps entries whose true gradient is ~0 from turning finite-difference
    noise into a large relative error, while a wrong sign or factor still shows as O(1).
    """
    a, n = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    if a.shape != n.shape:
        raise ValueError(f"shapes differ: analytic {a.shape}, numeric {n.shape}")
    if a.size == 0:
        return 0.0
    scale = max(float(np.abs(a).max()), float(np.abs(n).max()))
    if scale == 0.0:
        return 0.0
    denom = np.maximum(np.abs(a) + np.abs(n), 1e-3 * scale)
    return float((np.abs(a - n) / denom).max())


def check_layer_gradients(
    layer: Layer,
    x: np.ndarray,
    rng: np.random.Generator,
    training: bool = True,
    eps: float = 1e-6,
) -> dict[str, float]:
    """Compare ``layer.backward`` with numerical gradients, in float64.

    Casts the layer's params and buffers to float64, draws a random upstream
    gradient ``g`` and checks the gradients of ``sum(forward(x) * g)`` w.r.t.
    the input (key ``"x"``) and every param (its own key). A layer with an
    ``rng`` attribute (Dropout) gets the same random state before every forward,
    so its mask is fixed. Returns the max relative error per key.
    """
    for store in (layer.params, layer.buffers):
        for key in store:
            store[key] = np.array(store[key], dtype=np.float64)
    x = np.array(x, dtype=np.float64)
    layer_rng = getattr(layer, "rng", None)
    rng_state = None
    if isinstance(layer_rng, np.random.Generator):
        rng_state = layer_rng.bit_generator.state
    buffers0 = {k: v.copy() for k, v in layer.buffers.items()}

    def run(inp: np.ndarray) -> np.ndarray:
        if rng_state is not None:
            layer.rng.bit_generator.state = rng_state
        for k, v in buffers0.items():  # e.g. BatchNorm running stats: same start every time
            layer.buffers[k][...] = v
        return layer.forward(inp, training=training)

    out = run(x.copy())
    upstream = rng.standard_normal(out.shape)
    dx = layer.backward(upstream, need_input_grad=True, need_param_grads=True)
    analytic = {"x": np.array(dx, dtype=np.float64)}
    analytic.update({k: np.array(layer.grads[k], dtype=np.float64) for k in layer.params})

    errors = {"x": relative_error(
        analytic["x"], numerical_gradient(lambda z: np.sum(run(z) * upstream), x, eps)
    )}
    for key, param in layer.params.items():
        numeric = numerical_gradient(lambda _p: np.sum(run(x) * upstream), param, eps)
        errors[key] = relative_error(analytic[key], numeric)
    return errors
