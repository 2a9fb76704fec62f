"""A domain-specific input stem: a small trainable filter in front of a frozen pretrained base.

When the target images differ from the source's in their *look* (inverted contrast, blur, a
different sensor) rather than in what they show, a few weights in front of the base can learn
to map the target's look toward the one the pretrained filters expect. ``input_stem`` is a 3x3
convolution from the image's channels to the same channels, initialised to the **identity**
(a 1 at the centre of each channel's own kernel, 0 elsewhere, bias 0): at the start the base
sees the images unchanged. With one grey channel it is 10 numbers: enough to invert and
re-scale the contrast (centre weight and bias) and to sharpen or smooth (the 8 neighbours).
"""

from __future__ import annotations

import numpy as np

from tlkit.argcheck import check_int
from tlkit.nn import engine as nn_engine
from tlkit.nn.conv import Conv2D

__all__ = ["input_stem"]


def input_stem(channels: int = 1, kernel_size: int = 3, engine: str | None = None) -> Conv2D:
    """A ``kernel_size`` x ``kernel_size`` ``Conv2D(channels, channels)`` that starts as the identity,
    on ``engine`` (``"readable"`` or ``"fast"``; None: ``tlkit.nn.engine``'s default)."""
    channels = check_int(channels, "channels", 1)
    kernel_size = check_int(kernel_size, "kernel_size", 1)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (the identity needs a centre tap); got {kernel_size}")
    conv = nn_engine.layers(engine).Conv2D
    stem = conv(channels, channels, kernel_size=kernel_size, padding="same",
                rng=np.random.default_rng(0))  # the random draw is overwritten just below
    centre = kernel_size // 2
    stem.params["W"][...] = 0.0
    stem.params["W"][centre, centre, np.arange(channels), np.arange(channels)] = 1.0
    stem.params["b"][...] = 0.0
    return stem
