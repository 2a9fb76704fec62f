import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlkit.datasets import Augmenter, add_noise, affine_warp, load_digits, random_affine


@pytest.fixture(scope="module")
def digits():
    return load_digits()[0][:64]


def test_identity_at_zero_settings(digits):
    rng = np.random.default_rng(0)
    out = random_affine(digits, rng, max_shift=0.0, max_rotation=0.0, max_scale=0.0)
    assert np.array_equal(out, digits)
    assert np.array_equal(add_noise(digits, rng, sigma=0.0), digits)
    aug = Augmenter(max_shift=0, max_rotation=0, max_scale=0, noise_sigma=0)
    assert np.array_equal(aug(digits, rng), digits)


def test_integer_shift_is_exact(digits):
    out = affine_warp(digits, shift=(1.0, -2.0))
    expected = np.zeros_like(digits)
    expected[:, 1:, :-2] = digits[:, :-1, 2:]
    assert np.array_equal(out, expected)


def test_rotation_by_90_degrees_is_a_transpose_flip(digits):
    out = affine_warp(digits, angle=90.0)
    candidates = [np.rot90(digits, k, axes=(1, 2)) for k in (1, 3)]
    assert any(np.allclose(out, c, atol=1e-5) for c in candidates)


def test_bigger_canvas_places_image_at_the_centre(digits):
    out = affine_warp(digits, out_shape=(12, 12))
    assert out.shape == (64, 12, 12)
    assert np.array_equal(out[:, 2:10, 2:10], digits)
    assert out[:, :2].sum() == 0 and out[:, 10:].sum() == 0


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 5), h=st.integers(4, 12), w=st.integers(4, 12), seed=st.integers(0, 2**32),
    channels=st.sampled_from([None, 1, 3]),
)
def test_preserves_shape_dtype_and_range(n, h, w, seed, channels):
    rng = np.random.default_rng(seed)
    shape = (n, h, w) if channels is None else (n, channels, h, w)
    X = rng.random(shape, dtype=np.float32)
    out = Augmenter(max_shift=2, max_rotation=30, max_scale=0.2, noise_sigma=0.1)(X, rng)
    assert out.shape == X.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_same_warp_for_every_channel():
    rng = np.random.default_rng(1)
    x = rng.random((4, 1, 8, 8), dtype=np.float32)
    out = random_affine(np.concatenate([x, x], axis=1), np.random.default_rng(5))
    assert np.array_equal(out[:, 0], out[:, 1])


def test_deterministic_given_rng(digits):
    aug = Augmenter(noise_sigma=0.05)
    a = aug(digits, np.random.default_rng(7))
    b = aug(digits, np.random.default_rng(7))
    c = aug(digits, np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert not np.array_equal(a, digits)


def test_probability_zero_only_adds_noise(digits):
    out = Augmenter(max_rotation=30, p=0.0)(digits, np.random.default_rng(0))
    assert np.array_equal(out, digits)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda X, r: random_affine(X, r, max_shift=-1), "max_shift"),
        (lambda X, r: random_affine(X, r, max_rotation=float("nan")), "max_rotation"),
        (lambda X, r: random_affine(X, r, max_scale=1.5), "max_scale"),
        (lambda X, r: add_noise(X, r, sigma=-0.1), "sigma"),
        (lambda X, r: add_noise(X, 0, sigma=0.1), "rng"),
        (lambda X, r: random_affine(X[0], r), "X"),
        (lambda X, r: add_noise(np.full((2, 3, 3), np.nan), r), "X"),
        (lambda X, r: Augmenter(p=2.0), "p"),
        (lambda X, r: Augmenter(noise_sigma=-1), "noise_sigma"),
        (lambda X, r: affine_warp(X, scale=0.0), "scale"),
    ],
)
def test_bad_arguments_name_the_argument(digits, call, name):
    with pytest.raises(ValueError, match=name):
        call(digits, np.random.default_rng(0))
