"""Fixtures for the engine tests: run a test on each engine, build a layer's fast twin."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

from tlkit.nn import engine, fast
from tlkit.nn.layer import Layer


@pytest.fixture(params=engine.ENGINES)
def nn(request: pytest.FixtureRequest) -> ModuleType:
    """The layers of one engine: ``tlkit.nn`` (readable), then ``tlkit.nn.fast`` (their tuned twins)."""
    return engine.layers(request.param)


def twins(make: Callable[[], Layer]) -> tuple[Layer, Layer]:
    """``make()`` (a readable layer) and its fast twin with the same parameters and buffers: (readable, fast)."""
    readable = make()
    return readable, fast.convert_layer(readable)


@pytest.fixture
def make_twins() -> Callable[[Callable[[], Layer]], tuple[Layer, Layer]]:
    """``twins`` as a fixture: ``readable, fast = make_twins(lambda: Conv2D(...))``."""
    return twins
