"""The fast engine: tuned twins of the readable layers (CS231n's ``fast_layers.py``), asked for by name.

Each twin subclasses its readable layer, keeps its parameters and buffers, and computes the same
function (proved by ``tests/nn/test_nn_fast_equals_readable.py``). ``TWINS`` maps a readable class
to its twin. The other readable layers (Dense, Dropout, Flatten, GlobalAvgPool2D) run as they are,
and are re-exported here so that this module builds a whole model; the fast :class:`Block` and
:class:`Network` speed them up from the outside (``inference.py``: BatchNorm folded into the conv
or dense layer before it, ReLU after a max-pool rather than before; ``network.py``: cache-sized
inference chunks).

Two ways in: build on this engine (``tlkit.nn.fast.Conv2D(...)``, ``build_base(..., engine="fast")``,
or ``tlkit.nn.engine.use("fast")`` for every model built afterwards), or convert a network
(``tlkit.nn.fast.convert(network)``: a copy on this engine).
"""

from tlkit.nn import activations as readable_activations
from tlkit.nn import batchnorm as readable_batchnorm
from tlkit.nn import conv as readable_conv
from tlkit.nn import pooling as readable_pooling
from tlkit.nn.dense import Dense
from tlkit.nn.dropout import Dropout
from tlkit.nn.fast.activations import ReLU
from tlkit.nn.fast.batchnorm import BatchNorm
from tlkit.nn.fast.conv import Conv2D
from tlkit.nn.fast.network import Block, Network, convert, convert_block, convert_layer
from tlkit.nn.fast.pooling import MaxPool2D
from tlkit.nn.pooling import Flatten, GlobalAvgPool2D

TWINS: dict[type, type] = {  # (the submodules fast.conv etc. shadow the names conv etc. here)
    readable_conv.Conv2D: Conv2D,
    readable_batchnorm.BatchNorm: BatchNorm,
    readable_pooling.MaxPool2D: MaxPool2D,
    readable_activations.ReLU: ReLU,
}

__all__ = [
    "TWINS",
    "BatchNorm",
    "Block",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAvgPool2D",
    "MaxPool2D",
    "Network",
    "ReLU",
    "convert",
    "convert_block",
    "convert_layer",
]
