"""Exercise 05.1: the reference solution and the hidden cases (instructor side, never shipped)."""

from __future__ import annotations

import numpy as np

from tlkit.exercises.ex05_adapter import make_case
from tlkit.exercises.registry import Case


def adapter_forward_backward(x: np.ndarray, params: dict[str, np.ndarray],
                             grad_out: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Reference: the adapter's output and the gradients for ``grad_out``."""
    W_down, b_down, W_up, b_up = (params[k] for k in ("W_down", "b_down", "W_up", "b_up"))
    channels = W_down.shape[0]
    x2 = x.reshape(-1, channels)
    z = x2 @ W_down + b_down
    h = np.maximum(z, 0)
    y = (x2 + h @ W_up + b_up).reshape(x.shape)
    g = grad_out.reshape(-1, channels)
    dz = (g @ W_up.T) * (z > 0)
    grads = {"x": (g + dz @ W_down.T).reshape(x.shape), "W_down": x2.T @ dz, "b_down": dz.sum(axis=0),
             "W_up": h.T @ g, "b_up": g.sum(axis=0)}
    return y, grads


def make_hidden_cases(rng: np.random.Generator) -> tuple[Case, ...]:
    cases = []
    for index in range(6):
        channels, bottleneck = int(rng.integers(2, 9)), int(rng.integers(1, 5))
        n = int(rng.integers(1, 6))
        shape = (n, channels) if index % 3 else (n, int(rng.integers(1, 4)), int(rng.integers(1, 4)), channels)
        dtype = np.float32 if index % 2 else np.float64
        cases.append(make_case(f"hidden {index + 1}: x {shape}, bottleneck {bottleneck}, {np.dtype(dtype).name}",
                               int(rng.integers(2**31)), shape, bottleneck, dtype=dtype,
                               identity=index == 4, hidden=True))
    return tuple(cases)


reference = adapter_forward_backward
