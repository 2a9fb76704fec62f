"""LogME: how well do a model's features suit a task, before any training?

You, Liu, Wang and Long (ICML 2021), "LogME: Practical Assessment of Pre-trained Models
for Transfer Learning". For each class ``k``, regress its one-hot column ``y_k`` on the
features ``F`` (n, d) with a Bayesian linear model: weights ``w ~ N(0, 1/alpha)``, noise
``N(0, 1/beta)``. The *evidence* ``p(y_k | F, alpha, beta)`` (the likelihood with the
weights integrated out) rewards features that explain the labels with small weights and
punishes flexible features that could explain anything. Maximise it over ``alpha`` and
``beta`` with MacKay's fixed-point updates, cheap on the SVD ``F = U S V^T``:

    gamma = sum_i beta s_i^2 / (alpha + beta s_i^2)          (effective number of weights)
    m     = beta (alpha + beta F^T F)^-1 F^T y_k            (posterior mean of the weights)
    alpha = gamma / |m|^2,   beta = (n - gamma) / |F m - y_k|^2

The score is the maximised log evidence divided by n, averaged over the classes: higher
means the features make the labels easy to predict with a linear head. It needs no
training, no learning rate and no validation split.
"""

from __future__ import annotations

import math

import numpy as np

from .argcheck import as_float_array, as_labels

MAX_ITERATIONS = 11
TOLERANCE = 1e-3
_TINY = 1e-12
_LIMIT = 1e12


def _class_evidence(x: np.ndarray, sigma: np.ndarray, y_sq: float, n: int,
                    d: int) -> tuple[float, float, float]:
    """``(log evidence, alpha, beta)`` of one target column, given ``x = U^T y``, ``sigma = s^2``.

    Works in the SVD basis: with ``r = rank`` singular directions, ``|m|^2`` and the
    residual ``|F m - y|^2`` are sums over ``r`` terms, so each iteration costs O(r).
    """
    alpha, beta = 1.0, 1.0
    for _ in range(MAX_ITERATIONS):
        denom = alpha + beta * sigma
        gamma = float(np.sum(beta * sigma / denom))
        m_sq = float(np.sum((beta * np.sqrt(sigma) * x / denom) ** 2))
        residual = float(np.sum((alpha * x / denom) ** 2)) + max(y_sq - float(x @ x), 0.0)
        new_alpha = min(max(gamma / max(m_sq, _TINY), 1 / _LIMIT), _LIMIT)
        new_beta = min(max((n - gamma) / max(residual, _TINY), 1 / _LIMIT), _LIMIT)
        converged = abs(new_alpha - alpha) / alpha < TOLERANCE
        alpha, beta = new_alpha, new_beta
        if converged:
            break
    denom = alpha + beta * sigma
    m_sq = float(np.sum((beta * np.sqrt(sigma) * x / denom) ** 2))
    residual = float(np.sum((alpha * x / denom) ** 2)) + max(y_sq - float(x @ x), 0.0)
    # log |A| with A = alpha I + beta F^T F: d - r directions have eigenvalue alpha.
    log_det = float(np.sum(np.log(denom))) + (d - len(sigma)) * math.log(alpha)
    evidence = (
        n / 2 * math.log(beta)
        + d / 2 * math.log(alpha)
        - n / 2 * math.log(2 * math.pi)
        - beta / 2 * residual
        - alpha / 2 * m_sq
        - log_det / 2
    )
    return evidence, alpha, beta


def logme(features, y) -> float:
    """The LogME score of ``features`` (n, d) for integer labels ``y`` (n,).

    Averaged over the classes present in ``y``. Invariant to the order of the samples.
    """
    F = as_float_array(features, "features").astype(np.float64)
    if F.ndim == 1:
        F = F[:, None]
    if F.ndim != 2:
        raise ValueError(f"features must be a matrix (n, d); got shape {F.shape}")
    labels = as_labels(y, len(F), None, "y")
    n, d = F.shape
    u, s, _ = np.linalg.svd(F, full_matrices=False)
    keep = s > max(s.max(initial=0.0) * 1e-10, 1e-12)
    u, sigma = u[:, keep], s[keep] ** 2
    evidences = []
    for label in np.unique(labels):
        target = (labels == label).astype(np.float64)
        x = u.T @ target
        evidences.append(_class_evidence(x, sigma, float(target @ target), n, d)[0] / n)
    return float(np.mean(evidences))
