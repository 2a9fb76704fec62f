"""Softmax and the softmax cross-entropy loss (numerically stable)."""

from __future__ import annotations

import numpy as np

__all__ = ["log_softmax", "one_hot", "softmax", "softmax_cross_entropy"]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax along the last axis; shifts by the row maximum so huge logits are safe."""
    logits = np.asarray(logits)
    z = logits - logits.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log(softmax(logits)) along the last axis, computed without overflow."""
    logits = np.asarray(logits)
    z = logits - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def one_hot(labels: np.ndarray, num_classes: int, dtype: np.typing.DTypeLike = np.float32
            ) -> np.ndarray:
    """(N,) integer labels -> (N, num_classes) one-hot matrix in ``dtype`` (float32 default)."""
    labels = _check_labels(labels, len(np.asarray(labels).reshape(-1)), num_classes)
    out = np.zeros((labels.shape[0], num_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


def _check_labels(labels: np.ndarray, n: int, num_classes: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), got {labels.shape}")
    if n and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes - 1}], got values from "
            f"{labels.min()} to {labels.max()}"
        )
    return labels


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of (N, K) logits against (N,) integer labels.

    Returns ``(loss, grad)`` where ``grad`` is d(mean loss)/d(logits), i.e.
    ``(softmax(logits) - one_hot(labels)) / N``, in the dtype of ``logits``.
    """
    logits = np.asarray(logits)
    if logits.ndim != 2 or logits.shape[0] < 1 or logits.shape[1] < 1:
        raise ValueError(f"logits must have shape (N, K) with N, K >= 1, got {logits.shape}")
    if logits.dtype.kind != "f":
        raise TypeError(f"logits must be a floating-point array, got dtype {logits.dtype}")
    n, k = logits.shape
    labels = _check_labels(labels, n, k)
    rows = np.arange(n)
    log_probs = log_softmax(logits)                # stable: shifted by each row's maximum
    loss = float(-log_probs[rows, labels].mean())  # mean of -log p[y]
    grad = np.exp(log_probs)                       # softmax(logits) ...
    grad[rows, labels] -= 1                        # ... minus one_hot(labels) ...
    grad /= n                                      # ... for the mean over the batch
    return loss, grad
