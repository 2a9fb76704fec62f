"""The fast engine: tuned twins of the readable layers (CS231n's ``fast_layers.py``).

Each twin subclasses its readable layer, keeps its parameters and buffers, and computes the same
function (proved by ``tests/nn/test_nn_fast_equals_readable.py``). ``TWINS`` maps a readable class
to the class ``tlkit/nn/engine.py`` builds in its place under the fast engine. The other readable
layers (Dense, Dropout, Flatten, GlobalAvgPool2D) run as they are; the fast engine speeds
them up from the outside (``tlkit/nn/fast/inference.py``: BatchNorm folded into the conv or dense
layer before it, ReLU after a max-pool rather than before).
"""

from tlkit.nn import activations as readable_activations
from tlkit.nn import batchnorm as readable_batchnorm
from tlkit.nn import conv as readable_conv
from tlkit.nn import pooling as readable_pooling
from tlkit.nn.fast.activations import ReLU
from tlkit.nn.fast.batchnorm import BatchNorm
from tlkit.nn.fast.conv import Conv2D
from tlkit.nn.fast.pooling import MaxPool2D

TWINS: dict[type, type] = {  # (the submodules fast.conv etc. shadow the names conv etc. here)
    readable_conv.Conv2D: Conv2D,
    readable_batchnorm.BatchNorm: BatchNorm,
    readable_pooling.MaxPool2D: MaxPool2D,
    readable_activations.ReLU: ReLU,
}

__all__ = ["TWINS", "BatchNorm", "Conv2D", "MaxPool2D", "ReLU"]
