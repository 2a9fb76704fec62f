"""Learning-rate schedules: the factor applied to the base rate at a point of training.

``progress`` runs from 0 (first step) to 1 (end of training).
"""

from __future__ import annotations

import math


def constant(progress: float) -> float:
    return 1.0


def step(progress: float, drop: float = 0.1, at: tuple[float, ...] = (0.5, 0.75)) -> float:
    """Multiply by ``drop`` at each milestone (fractions of training)."""
    return drop ** sum(progress >= milestone for milestone in at)


def cosine(progress: float, floor: float = 0.0) -> float:
    """Half a cosine from 1 down to ``floor``."""
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def one_cycle(progress: float, peak_at: float = 0.3, start: float = 0.04, end: float = 0.001) -> float:
    """Slanted triangular (ULMFiT) / one-cycle: a short linear warm-up, then a long linear decay."""
    if progress < peak_at:
        return start + (1.0 - start) * progress / peak_at
    return 1.0 - (1.0 - end) * (progress - peak_at) / (1.0 - peak_at)


SCHEDULES = {"constant": constant, "step": step, "cosine": cosine, "one_cycle": one_cycle}


def get_schedule(name: str):
    if name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {sorted(SCHEDULES)}; got {name!r}")
    return SCHEDULES[name]
