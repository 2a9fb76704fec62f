"""Reference layers written as the definitions, loop by loop: what the engines are checked against."""

from __future__ import annotations

import itertools

import numpy as np


def naive_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: tuple[int, int, int, int]):
    top, bottom, left, right = pad
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw = w.shape[:2]
    ho, wo = xp.shape[1] - kh + 1, xp.shape[2] - kw + 1
    out = np.zeros((x.shape[0], ho, wo, w.shape[3]))
    for i, j in itertools.product(range(ho), range(wo)):
        patch = xp[:, i:i + kh, j:j + kw, :]
        out[:, i, j, :] = np.einsum("nhwc,hwco->no", patch, w) + b
    return out
