"""The NumPy neural-network engine: layers, losses, optimizers, initialisers, gradient checks.

The layers here are the readable ones; under the default fast engine, constructing one builds
its tuned twin from ``tlkit/nn/fast/`` (``tlkit.nn.engine``: ``TLKIT_ENGINE=readable`` or
``engine.use("readable")`` runs everything on the readable layers).
"""

from tlkit.nn import engine
from tlkit.nn.activations import ReLU
from tlkit.nn.batchnorm import BatchNorm
from tlkit.nn.conv import Conv2D
from tlkit.nn.dense import Dense
from tlkit.nn.dropout import Dropout
from tlkit.nn.gradcheck import check_layer_gradients, numerical_gradient
from tlkit.nn.init import glorot_uniform, he_normal, he_uniform, zeros
from tlkit.nn.layer import Layer
from tlkit.nn.losses import log_softmax, one_hot, softmax, softmax_cross_entropy
from tlkit.nn.optimizers import SGD, Adam, Optimizer, ParamGroup
from tlkit.nn.pooling import Flatten, GlobalAvgPool2D, MaxPool2D

__all__ = [
    "SGD",
    "Adam",
    "BatchNorm",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAvgPool2D",
    "Layer",
    "MaxPool2D",
    "Optimizer",
    "ParamGroup",
    "ReLU",
    "check_layer_gradients",
    "engine",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "log_softmax",
    "numerical_gradient",
    "one_hot",
    "softmax",
    "softmax_cross_entropy",
    "zeros",
]
