"""SGD and Adam over named parameter groups, updating parameters in place."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SGD", "Adam", "Optimizer", "ParamGroup"]


def _number(name: str, value: Any, *, low: float, high: float | None = None,
            low_inclusive: bool = True, high_inclusive: bool = False) -> float:
    """Validate a real number in a range; ValueError names the argument and the valid range."""
    lo = "[" if low_inclusive else "("
    hi = "]" if high_inclusive else ")"
    valid = f"{lo}{low}, {high if high is not None else 'inf'}{hi}"
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = math.isfinite(v) and (v >= low if low_inclusive else v > low)
        if ok and high is not None:
            ok = v <= high if high_inclusive else v < high
    if not ok:
        raise ValueError(f"{name} must be a number in {valid}, got {value!r}")
    return float(value)


@dataclass
class ParamGroup:
    """The parameters of one named block (e.g. "layer2"), their gradients, and its lr multiplier.

    ``lr_multiplier == 0`` means the optimizer leaves the group alone entirely.
    """

    name: str
    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    lr_multiplier: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {type(self.name).__name__}")
        self.lr_multiplier = _number("lr_multiplier", self.lr_multiplier, low=0.0)


class Optimizer:
    """Shared machinery: ``lr``, ``state`` keyed by (group name, param key), ``reset()``."""

    def __init__(self, lr: float, weight_decay: float) -> None:
        self.lr = _number("lr", lr, low=0.0, low_inclusive=False)
        self.weight_decay = _number("weight_decay", weight_decay, low=0.0)
        self.state: dict[tuple[str, str], dict[str, Any]] = {}

    def reset(self) -> None:
        """Forget all per-parameter state (momentum buffers, Adam moments, step counts)."""
        self.state.clear()

    def step(self, groups: Iterable[ParamGroup]) -> None:
        """Update every parameter of every group with a non-zero multiplier, in place."""
        lr = _number("lr", self.lr, low=0.0)
        for group in groups:
            if group.lr_multiplier == 0:
                continue
            step_size = float(lr * group.lr_multiplier)
            for key, param in group.params.items():
                grad = group.grads.get(key)
                if grad is None:
                    raise ValueError(
                        f"group {group.name!r} has no gradient for parameter {key!r}; "
                        f"gradients given: {sorted(group.grads)}"
                    )
                if grad.shape != param.shape:
                    raise ValueError(
                        f"gradient of {group.name}.{key} has shape {grad.shape}, "
                        f"expected {param.shape}"
                    )
                if self.weight_decay:
                    grad = grad + self.weight_decay * param  # L2 penalty, as in torch.optim
                self._update(param, grad, step_size, self.state.setdefault((group.name, key), {}))

    def _update(self, param: np.ndarray, grad: np.ndarray, step_size: float,
                state: dict[str, Any]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (heavy-ball) momentum.

    With momentum 0 this is exactly ``w <- w - lr * lr_multiplier * grad``.
    With momentum: ``v <- momentum * v + grad; w <- w - lr * lr_multiplier * v``.
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)
        self.momentum = _number("momentum", momentum, low=0.0, high=1.0)

    def _update(self, param: np.ndarray, grad: np.ndarray, step_size: float,
                state: dict[str, Any]) -> None:
        if self.momentum:
            velocity = state.get("velocity")
            if velocity is None:
                velocity = state["velocity"] = grad.astype(param.dtype, copy=True)
            else:
                velocity *= self.momentum
                velocity += grad
            grad = velocity
        param -= step_size * grad

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, momentum={self.momentum}, weight_decay={self.weight_decay})"


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction; a step count per parameter."""

    def __init__(self, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_number("betas[0]", betas[0], low=0.0, high=1.0),
                      _number("betas[1]", betas[1], low=0.0, high=1.0))
        self.eps = _number("eps", eps, low=0.0, low_inclusive=False)

    def _update(self, param: np.ndarray, grad: np.ndarray, step_size: float,
                state: dict[str, Any]) -> None:
        b1, b2 = self.betas
        if not state:
            state["step"] = 0
            state["m"] = np.zeros_like(param)
            state["v"] = np.zeros_like(param)
        state["step"] += 1
        t, m, v = state["step"], state["m"], state["v"]
        m *= b1
        m += (1.0 - b1) * grad
        v *= b2
        v += (1.0 - b2) * (grad * grad)
        bias1, bias2 = 1.0 - b1**t, 1.0 - b2**t
        denom = np.sqrt(v / bias2)
        denom += self.eps
        param -= (step_size / bias1) * m / denom

    def __repr__(self) -> str:
        return (f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, "
                f"weight_decay={self.weight_decay})")
