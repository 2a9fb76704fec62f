"""Fixtures for the engine tests: run a test on each engine, build a layer on both."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tlkit.nn import engine
from tlkit.nn.layer import Layer


@pytest.fixture(params=engine.ENGINES)
def each_engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """The test runs once with layers built by the fast engine and once by the readable one."""
    with engine.using(request.param):
        yield request.param


@pytest.fixture
def fast_engine() -> Iterator[None]:
    """For tests of a property only the tuned twins have (e.g. reused buffers), whatever TLKIT_ENGINE says."""
    with engine.using("fast"):
        yield


def twins(make: Callable[[], Layer]) -> tuple[Layer, Layer]:
    """``make()`` on the readable and on the fast engine, the fast one given the readable one's
    parameters and buffers: (readable, fast)."""
    with engine.using("readable"):
        readable = make()
    with engine.using("fast"):
        fast = make()
    for store in ("params", "buffers"):
        for key, value in getattr(readable, store).items():
            getattr(fast, store)[key][...] = value
    return readable, fast


@pytest.fixture
def make_twins() -> Callable[[Callable[[], Layer]], tuple[Layer, Layer]]:
    """``twins`` as a fixture: ``readable, fast = make_twins(lambda: Conv2D(...))``."""
    return twins
