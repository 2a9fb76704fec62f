"""studies.xray_factors: each variant changes one factor of the X-ray look, and nothing else."""

import numpy as np

from studies.xray_factors import VARIANTS, gaps, styled
from tlkit.datasets import gaussian_blur, xray_style


def _digits(seed=0):
    return np.random.default_rng(seed).random((6, 8, 8)).astype(np.float32)


def test_the_task_variant_is_xray_style_with_its_defaults():
    X = _digits()
    np.testing.assert_array_equal(styled(X, "noise 0.08 (the X-ray task)", np.random.default_rng(1)),
                                  xray_style(X, np.random.default_rng(1)))


def test_not_inverted_is_the_same_look_on_the_inverted_input():
    X = _digits()
    np.testing.assert_array_equal(styled(X, "noise 0.08, not inverted", np.random.default_rng(2)),
                                  xray_style(1.0 - X, np.random.default_rng(2)))


def test_blurred_variant_blurs_the_task_images_and_noise_zero_has_no_noise():
    X = _digits()
    task = xray_style(X, np.random.default_rng(3))
    expected = np.clip(gaussian_blur(task, 0.7), 0.0, 1.0)
    np.testing.assert_allclose(styled(X, "noise 0.08, then blurred", np.random.default_rng(3)), expected, atol=1e-7)
    a = styled(X, "noise 0", np.random.default_rng(4))
    b = styled(X, "noise 0", np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)  # no randomness left without noise


def test_gaps_pair_each_arm_with_from_scratch_by_seed():
    records = [{"variant": "noise 0", "arm": arm, "seed": s, "accuracy": acc}
               for s, (fs, ft) in enumerate([(0.5, 0.6), (0.7, 0.6)])
               for arm, acc in (("from_scratch", fs), ("fine_tuning", ft))]
    d = gaps(records)[("noise 0", "fine_tuning")]
    assert d.n == 2 and d.wins == 1 and abs(d.mean - 0.0) < 1e-12
    assert set(VARIANTS) >= {"noise 0", "noise 0.08 (the X-ray task)"}
