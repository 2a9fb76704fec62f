"""A copy of a network computes what the original computes, whatever the original ran before.

Layers keep scratch buffers between calls (the fast Conv2D keeps its padded input, its im2col
matrix and views of both). A deep copy must not carry those over: a copied view is a detached
array, and a copy that filled it would compute from stale data (a feature extractor on such a
copy once scored at chance level).
"""

import numpy as np
import pytest

from tlkit import PretrainedModel
from tlkit.nn import engine


def _images(seed, shape, n=12):
    return np.random.default_rng(seed).random((n, *shape)).astype(np.float32)


@pytest.mark.parametrize("name", engine.ENGINES)
@pytest.mark.parametrize("architecture", ["simple", "medium", "deep"])
def test_a_copy_after_inference_and_training_passes_computes_like_the_original(name, architecture):
    with engine.using(name):
        base = PretrainedModel(architecture)
        first, second = _images(0, base.input_shape), _images(1, base.input_shape)
        base.extract_features(first)                       # the inference path fills its buffers
        x, _ = base.to_network_input(first)
        base.network.forward(x, training=False)             # so does the path a backward follows
        twin = base.copy()
        np.testing.assert_array_equal(twin.extract_features(second), base.extract_features(second))
        y, _ = base.to_network_input(second)
        np.testing.assert_array_equal(twin.network.forward(y, training=False), base.network.forward(y, training=False))

