"""LogME: the evidence is right, informative features score higher, order does not matter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tlkit.logme import _class_evidence, logme


def informative(n=120, d=8, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    centres = rng.normal(0, 2, (k, d))
    return (centres[y] + rng.normal(0, 0.5, (n, d))).astype(np.float32), y


def test_informative_features_beat_random_ones():
    F, y = informative()
    noise = np.random.default_rng(1).normal(size=F.shape).astype(np.float32)
    assert logme(F, y) > logme(noise, y) + 0.1
    # more noise in the features, lower score
    noisier = F + np.random.default_rng(2).normal(0, 3, F.shape).astype(np.float32)
    assert logme(F, y) > logme(noisier, y)


def test_invariant_to_permuting_the_samples():
    F, y = informative()
    order = np.random.default_rng(3).permutation(len(y))
    assert logme(F[order], y[order]) == pytest.approx(logme(F, y), rel=1e-9, abs=1e-9)


def _evidence(n, d, seed=0):
    F, labels = informative(n=n, d=d, seed=seed)
    F = F.astype(np.float64) + np.random.default_rng(9).normal(0, 1.0, (n, d))
    y = (labels == 1).astype(np.float64)
    u, s, _ = np.linalg.svd(F, full_matrices=False)
    return F, y, s, _class_evidence(u.T @ y, s**2, float(y @ y), n, d)


@pytest.mark.parametrize(("n", "d"), [(60, 8), (30, 40)])  # n < d: the rank-deficient case
def test_evidence_is_the_gaussian_marginal_likelihood(n, d):
    F, y, _, (evidence, alpha, beta) = _evidence(n, d)
    # p(y | alpha, beta) = N(y; 0, F F^T / alpha + I / beta)
    cov = F @ F.T / alpha + np.eye(n) / beta
    _, logdet = np.linalg.slogdet(cov)
    direct = -0.5 * (n * math.log(2 * math.pi) + logdet + y @ np.linalg.solve(cov, y))
    assert evidence == pytest.approx(direct, rel=1e-6)


def test_alpha_and_beta_are_at_the_fixed_point():
    F, y, s, (_, alpha, beta) = _evidence(60, 8)
    A = alpha * np.eye(8) + beta * F.T @ F
    m = beta * np.linalg.solve(A, F.T @ y)
    gamma = np.sum(beta * s**2 / (alpha + beta * s**2))
    assert alpha == pytest.approx(gamma / (m @ m), rel=1e-2)
    assert beta == pytest.approx((60 - gamma) / np.sum((F @ m - y) ** 2), rel=1e-2)


def test_degenerate_inputs_stay_finite():
    assert math.isfinite(logme([[1.0, 2.0]], [0]))
    assert math.isfinite(logme(np.zeros((5, 3)), [0, 1, 0, 1, 1]))
    assert math.isfinite(logme(np.ones((4, 2)), [2, 2, 2, 2]))


def test_bad_input():
    with pytest.raises(ValueError, match="different lengths"):
        logme(np.zeros((3, 2)), [0, 1])
    with pytest.raises(ValueError, match="features.*empty"):
        logme(np.zeros((0, 2)), [])
    with pytest.raises(ValueError, match="NaN"):
        logme(np.array([[np.nan, 1.0]]), [0])
