"""Augmentation that fits the domain: the noise estimate, the noise a warp keeps and restores,
whole-pixel shifts and flips."""

from __future__ import annotations

import numpy as np
import pytest

from tlkit.datasets import Augmenter, affine_warp, make_transfer_task, random_affine
from tlkit.datasets.augment import source_coordinates
from tlkit.datasets.augment_domain import estimate_noise, integer_shift, random_flips, retained_noise

WARP = {"max_shift": 1.0, "max_rotation": 15.0, "max_scale": 0.1}


def noisy_flat(n: int, size: int, sigma: float, seed: int = 0, level: float = 0.5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (level + sigma * rng.standard_normal((n, size, size))).astype(np.float32)


def noise_about_background(X: np.ndarray) -> float:
    """Pixel standard deviation about each image's mean (flat images: the noise itself)."""
    X = np.asarray(X, np.float64)
    return float(np.sqrt(np.mean((X - X.mean(axis=(1, 2), keepdims=True)) ** 2)))


@pytest.mark.parametrize("sigma", [0.03, 0.08])
def test_estimate_noise_recovers_the_noise_of_flat_and_sloped_images(sigma):
    flat = noisy_flat(50, 32, sigma)
    assert estimate_noise(flat).mean() == pytest.approx(sigma, rel=0.03)
    ramp = np.linspace(0.2, 0.8, 32)[None, :, None] + np.linspace(0, 0.1, 32)[None, None, :]
    sloped = (ramp + noisy_flat(50, 32, sigma, seed=1) - 0.5).astype(np.float32)
    assert estimate_noise(sloped).mean() == pytest.approx(sigma, rel=0.05)   # the slope cancels
    assert np.allclose(estimate_noise(ramp), 0.0, atol=1e-12)


def test_estimate_noise_shapes_and_errors():
    assert estimate_noise(np.zeros((4, 5, 6))).shape == (4,)
    assert estimate_noise(np.zeros((4, 2, 5, 6))).shape == (4, 2)
    with pytest.raises(ValueError, match="at least 3x3"):
        estimate_noise(np.zeros((4, 2, 6)))


def test_retained_noise_of_simple_samples():
    h = w = 5
    centre = np.array([[2.0]])
    assert retained_noise(centre, centre, h, w)[0, 0] == 1.0                 # on a pixel: all of it
    half = np.array([[2.5]])
    assert retained_noise(half, centre, h, w)[0, 0] == pytest.approx(0.5)     # 0.5^2 + 0.5^2
    assert retained_noise(half, half, h, w)[0, 0] == pytest.approx(0.25)
    outside = np.array([[-3.0]])
    assert retained_noise(outside, centre, h, w)[0, 0] == 0.0                # the fill has no noise
    edge = np.array([[-0.5]])
    assert retained_noise(edge, centre, h, w)[0, 0] == pytest.approx(0.25)   # one tap of two inside


def test_retained_noise_predicts_the_variance_a_warp_keeps():
    sigma, n, size = 0.1, 4000, 9
    X = noisy_flat(n, size, sigma, seed=2, level=0.0)
    rng = np.random.default_rng(3)
    angle, scale, shift = rng.uniform(-20, 20, n), 1 + rng.uniform(-0.1, 0.1, n), rng.uniform(-1, 1, (n, 2))
    out = affine_warp(X, angle, scale, shift)  # fill 0: outside the image there is no noise
    kept = retained_noise(*source_coordinates(n, (size, size), (size, size), angle, scale, shift), size, size)
    measured = (np.asarray(out, np.float64).reshape(n, -1) ** 2).mean(axis=0)   # per pixel, over images
    predicted = sigma ** 2 * kept.mean(axis=0)
    np.testing.assert_allclose(measured, predicted, rtol=0.12)  # 4000 images: ~2% sampling error per pixel
    assert measured.mean() == pytest.approx(predicted.mean(), rel=0.02)
    assert predicted.min() < 0.6 * sigma ** 2   # the warp did lose noise somewhere


def test_restore_noise_brings_the_noise_back_after_the_warp():
    X = noisy_flat(200, 16, 0.08, seed=4)
    warped = Augmenter(**WARP)(X, np.random.default_rng(0))
    restored = Augmenter(**WARP, restore_noise=True)(X, np.random.default_rng(0))
    assert noise_about_background(warped) < 0.8 * 0.08
    assert noise_about_background(restored) == pytest.approx(noise_about_background(X), rel=0.05)
    assert restored.dtype == np.float32 and restored.shape == X.shape
    assert restored.min() >= 0.0 and restored.max() <= 1.0


def test_restore_noise_adds_nothing_to_an_unchanged_image():
    X = noisy_flat(20, 8, 0.05, seed=5)
    assert np.array_equal(Augmenter(**WARP, p=0.0, restore_noise=True)(X, np.random.default_rng(0)), X)
    shifted = Augmenter.without_interpolation(0, restore_noise=True)(X, np.random.default_rng(0))
    assert np.array_equal(shifted, X)   # shifts of 0: every pixel copied, no noise to restore


def test_restore_noise_on_channels_first_images():
    X = np.stack([noisy_flat(30, 10, 0.05, seed=6), noisy_flat(30, 10, 0.1, seed=7)], axis=1)
    out = Augmenter(**WARP, restore_noise=True)(X, np.random.default_rng(1))
    assert out.shape == X.shape
    per_channel = [noise_about_background(out[:, c]) for c in (0, 1)]
    assert per_channel[0] == pytest.approx(0.05, rel=0.1) and per_channel[1] == pytest.approx(0.1, rel=0.1)


def shifted_copies(image: np.ndarray, fill: float) -> list[np.ndarray]:
    copies = []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            copy = np.full_like(image, fill)
            h, w = image.shape
            copy[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
                image[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
            copies.append(copy)
    return copies


def test_without_interpolation_copies_pixels_exactly():
    X = make_transfer_task("medium", n_train=40, seed=0, domain="xray").X_train
    aug = Augmenter.without_interpolation(1)
    out = aug(X, np.random.default_rng(0))
    background = np.median(np.concatenate([X[:, 0], X[:, -1], X[:, 1:-1, 0], X[:, 1:-1, -1]], axis=1), axis=1)
    moved = 0
    for image, result, fill in zip(X, out, background.astype(np.float32), strict=True):
        matches = [np.array_equal(result, c) for c in shifted_copies(image, fill)]
        assert any(matches)
        moved += not matches[4]
    assert moved > 20   # most images moved (8 of 9 shifts move)
    assert aug.max_rotation == 0 and aug.max_scale == 0 and aug.interpolation == "none"


def test_integer_shift_fills_per_image_and_moves_whole_pixels():
    X = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    out = integer_shift(X, [(1, 0), (0, -2)], np.array([-1.0, -2.0], dtype=np.float32))
    np.testing.assert_array_equal(out[0], [[-1, -1, -1, -1], [0, 1, 2, 3], [4, 5, 6, 7]])
    np.testing.assert_array_equal(out[1], [[14, 15, -2, -2], [18, 19, -2, -2], [22, 23, -2, -2]])
    assert np.all(integer_shift(X, [(5, 0), (0, 0)], 0.5)[0] == 0.5)


@pytest.mark.parametrize("flips", ["horizontal", "vertical", "both"])
def test_flips_mirror_about_half_of_the_images(flips):
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    X = np.repeat(image[None], 64, axis=0)
    out = Augmenter.without_interpolation(0, flips=flips)(X, np.random.default_rng(0))
    candidates = {"horizontal": [image, image[:, ::-1]], "vertical": [image, image[::-1]],
                  "both": [image, image[:, ::-1], image[::-1], image[::-1, ::-1]]}[flips]
    seen = {next(i for i, c in enumerate(candidates) if np.array_equal(o, c)) for o in out}
    assert seen == set(range(len(candidates)))
    assert np.array_equal(random_flips(X, np.random.default_rng(0), "none"), X)


@pytest.mark.parametrize(("fields", "name"), [
    ({"interpolation": "nearest"}, "interpolation"),
    ({"interpolation": "none"}, "max_rotation"),
    ({"flips": "diagonal"}, "flips"),
    ({"restore_noise": "yes"}, "restore_noise"),
])
def test_bad_domain_options_name_the_field(fields, name):
    with pytest.raises(ValueError, match=name):
        Augmenter(**fields)


def test_the_default_augmenter_draws_what_random_affine_draws():
    X = make_transfer_task("medium", n_train=20, seed=1, domain="xray").X_train
    expected = random_affine(X, np.random.default_rng(7), 1.0, 10.0, 0.1, fill="border")
    np.testing.assert_array_equal(Augmenter()(X, np.random.default_rng(7)), expected)
