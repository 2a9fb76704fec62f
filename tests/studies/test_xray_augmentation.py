"""studies.xray_augmentation: the smoothing measure, the arms and the paired gaps."""

import numpy as np

from studies.xray_augmentation import ARMS, BASE_UPDATES, LONG_ARMS, gaps, pixel_noise, runs_plan, smoothing
from tlkit.datasets import gaussian_blur


def test_pixel_noise_is_zero_on_a_smooth_image_and_falls_under_a_blur():
    ramp = np.tile(np.linspace(0, 1, 8, dtype=np.float32), (2, 8, 1))
    assert pixel_noise(ramp) < 1e-6  # equal steps: the differences do not vary
    noisy = np.random.default_rng(0).normal(0.5, 0.1, (20, 12, 12)).astype(np.float32)
    assert pixel_noise(gaussian_blur(noisy, 0.7)) < 0.7 * pixel_noise(noisy)


def test_smoothing_reports_every_warp_on_the_same_images_and_a_rotation_smooths_noise():
    X = np.random.default_rng(1).normal(0.5, 0.1, (30, 12, 12)).astype(np.float32)
    rows = {r["arm"]: r for r in smoothing(X)}
    assert set(rows) == set(ARMS) - {"none"}
    assert all(r["noise_before"] == rows["shifts only"]["noise_before"] for r in rows.values())
    # an interpolating warp averages neighbours: white noise comes out smoother
    assert rows["rotations only"]["noise_after"] < rows["rotations only"]["noise_before"]


def test_every_arm_runs_at_the_base_budget_and_the_long_arms_at_three_times_it():
    plan = runs_plan()
    assert {arm for arm, u in plan if u == BASE_UPDATES} == set(ARMS)
    assert {arm for arm, u in plan if u == 3 * BASE_UPDATES} == set(LONG_ARMS)


def test_gaps_pair_each_arm_with_no_augmentation_at_the_same_budget():
    records = [{"arm": "rotations only", "noise_before": 0.1, "noise_after": 0.08}]
    for seed, (none_300, aug_300, none_900, aug_900) in enumerate([(0.7, 0.6, 0.72, 0.70), (0.8, 0.75, 0.8, 0.81)]):
        records += [{"arm": "none", "updates": 300, "seed": seed, "accuracy": none_300},
                    {"arm": "study augmentation", "updates": 300, "seed": seed, "accuracy": aug_300},
                    {"arm": "none", "updates": 900, "seed": seed, "accuracy": none_900},
                    {"arm": "study augmentation", "updates": 900, "seed": seed, "accuracy": aug_900}]
    found = gaps(records)
    assert set(found) == {("study augmentation", 300), ("study augmentation", 900)}
    assert abs(found[("study augmentation", 300)].mean - (-0.075)) < 1e-9
    assert found[("study augmentation", 900)].wins == 1 and found[("study augmentation", 900)].n == 2
