"""Which engine builds a model: the readable layers (the default) or their tuned twins, by name.

Two engines, one contract (CS231n's ``layers.py`` and ``fast_layers.py``): the readable layers in
``tlkit/nn/*.py`` are what a student opens; the tuned twins in ``tlkit/nn/fast/`` compute the same
functions faster and are proved equal to them by ``tests/nn/test_nn_fast_equals_readable.py``.

A class is what it says: ``tlkit.nn.Conv2D(...)`` is the readable layer, ``tlkit.nn.fast.Conv2D(...)``
the tuned one, and a network says which it is (``network.engine``). The engine is chosen by name
where a model is built:

* ``build_base(..., engine="fast")`` and ``build_head(..., engine="fast")`` (``tlkit.architectures``);
* ``tlkit.nn.fast.convert(network)``: a copy of a network, weights and frozen flags included, on
  the fast engine;
* the default for models built without naming one (``PretrainedModel``, the strategies' heads,
  the from-scratch baseline): ``"readable"``, or the environment variable ``TLKIT_ENGINE`` for a
  whole process, or ``use("fast")`` / ``with using("fast"):`` in code.

Parameters, buffers and ``state_dict`` keys are the same on both engines, so a checkpoint saved
on one loads on the other.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

ENGINES = ("readable", "fast")


def _checked(engine: object, source: str) -> str:
    if engine not in ENGINES:
        raise ValueError(f"{source} must be one of {', '.join(map(repr, ENGINES))}; got {engine!r}")
    return str(engine)


_default = _checked(os.environ.get("TLKIT_ENGINE", "readable"), "TLKIT_ENGINE")


def name() -> str:
    """The engine models are built on when none is named: ``"readable"`` or ``"fast"``."""
    return _default


def use(engine: str) -> None:
    """Build models on ``engine`` (``"readable"`` or ``"fast"``) from now on, when none is named."""
    global _default
    _default = _checked(engine, "engine")


@contextmanager
def using(engine: str) -> Iterator[None]:
    """``with using("fast"): ...`` builds the block's models on ``engine``, then restores the default."""
    previous = _default
    use(engine)
    try:
        yield
    finally:
        use(previous)


def layers(engine: str | None = None) -> ModuleType:
    """The module whose ``Conv2D``, ``BatchNorm``, ``ReLU``, ..., ``Block`` and ``Network`` build
    models on ``engine`` (None: the default): ``tlkit.nn`` or ``tlkit.nn.fast``."""
    engine = name() if engine is None else _checked(engine, "engine")
    return importlib.import_module("tlkit.nn" if engine == "readable" else "tlkit.nn.fast")
