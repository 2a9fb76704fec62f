"""The NumPy neural-network engine: layers, blocks, losses, optimizers, initialisers, gradient checks.

The layers here are the readable ones, and ``Conv2D(...)`` is the class in ``conv.py``. Their
tuned twins live in ``tlkit/nn/fast/`` and run only when asked for by name
(``tlkit.nn.engine`` says how).
"""

from tlkit.nn import engine
from tlkit.nn.activations import ReLU
from tlkit.nn.adapter import Adapter
from tlkit.nn.batchnorm import BatchNorm
from tlkit.nn.conv import Conv2D
from tlkit.nn.dense import Dense
from tlkit.nn.dropout import Dropout
from tlkit.nn.frozen import Frozen
from tlkit.nn.gradcheck import check_layer_gradients, numerical_gradient
from tlkit.nn.init import glorot_uniform, he_normal, he_uniform, zeros
from tlkit.nn.layer import Layer
from tlkit.nn.lora import LoRA
from tlkit.nn.losses import log_softmax, one_hot, softmax, softmax_cross_entropy
from tlkit.nn.network import Block, Network
from tlkit.nn.optimizers import SGD, Adam, Optimizer, ParamGroup
from tlkit.nn.pooling import Flatten, GlobalAvgPool2D, MaxPool2D
from tlkit.nn.stem import input_stem

__all__ = [
    "SGD",
    "Adam",
    "Adapter",
    "BatchNorm",
    "Block",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "Frozen",
    "GlobalAvgPool2D",
    "LoRA",
    "Layer",
    "MaxPool2D",
    "Network",
    "Optimizer",
    "ParamGroup",
    "ReLU",
    "check_layer_gradients",
    "engine",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "input_stem",
    "log_softmax",
    "numerical_gradient",
    "one_hot",
    "softmax",
    "softmax_cross_entropy",
    "zeros",
]
