"""Which engine runs the layers: the tuned kernels (``"fast"``, the default) or the readable layers.

Two engines, one contract (CS231n's ``layers.py`` and ``fast_layers.py``): the readable layers in
``tlkit/nn/*.py`` are what a student opens; the tuned twins in ``tlkit/nn/fast/`` compute the same
functions faster and are proved equal to them by ``tests/nn/test_nn_fast_equals_readable.py``.

Choose the engine for the whole process with the environment variable ``TLKIT_ENGINE``
(``fast`` or ``readable``), or in code with ``use("readable")``. A layer is built by the engine
in use when it is constructed (``Conv2D(...)`` gives the fast twin under ``"fast"``); blocks and
networks look at the engine each time they run. Parameters, buffers and checkpoints are the same
on both engines, so a checkpoint saved on one loads on the other.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

ENGINES = ("fast", "readable")


def _checked(engine: object, source: str) -> str:
    if engine not in ENGINES:
        raise ValueError(f"{source} must be one of {', '.join(map(repr, ENGINES))}; got {engine!r}")
    return str(engine)


_current = _checked(os.environ.get("TLKIT_ENGINE", "fast"), "TLKIT_ENGINE")


def name() -> str:
    """The engine in use: ``"fast"`` or ``"readable"``."""
    return _current


def use(engine: str) -> None:
    """Build and run layers with ``engine`` (``"fast"`` or ``"readable"``) from now on."""
    global _current
    _current = _checked(engine, "engine")


@contextmanager
def using(engine: str) -> Iterator[None]:
    """``with using("readable"): ...`` runs the block on ``engine`` and restores the previous one."""
    previous = _current
    use(engine)
    try:
        yield
    finally:
        use(previous)


def layer_class(cls: type) -> type:
    """The class to build when ``cls(...)`` is called: its fast twin under the fast engine, else ``cls``."""
    if _current == "readable":
        return cls
    from tlkit.nn.fast import TWINS  # the fast layers import the readable ones: import them late

    return TWINS.get(cls, cls)
