import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlkit.datasets import Augmenter, add_noise, affine_warp, load_digits, make_transfer_task, random_affine


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
        (lambda X, r: affine_warp(X, fill="edge"), "fill"),
        (lambda X, r: Augmenter(fill=float("nan")), "fill"),
    ],
)
def test_bad_arguments_name_the_argument(digits, call, name):
    with pytest.raises(ValueError, match=name):
        call(digits, np.random.default_rng(0))


@settings(max_examples=25, deadline=None)
@given(
    value=st.floats(0.0, 1.0, width=32), seed=st.integers(0, 2**32),
    shift=st.floats(0.0, 3.0), rotation=st.floats(0.0, 180.0), scale=st.floats(0.0, 0.5),
)
def test_a_constant_image_stays_constant_under_any_warp(value, seed, shift, rotation, scale):
    # Nothing in a constant image can move: with the background fill, no pixel may change.
    X = np.full((3, 8, 8), value, dtype=np.float32)
    aug = Augmenter(max_shift=shift, max_rotation=rotation, max_scale=scale)
    out = aug(X, np.random.default_rng(seed))
    assert np.allclose(out, value, atol=1e-6)


def test_border_fill_is_per_image_and_per_channel():
    X = np.stack([np.full((2, 6, 6), 0.25, np.float32), np.full((2, 6, 6), 0.75, np.float32)])
    X[1, 1] = 0.5  # image 1: channel 0 at 0.75, channel 1 at 0.5
    out = affine_warp(X, angle=33.0, shift=(1.5, -2.0), scale=0.8, fill="border")
    expected = np.broadcast_to(np.array([[0.25, 0.25], [0.75, 0.5]], np.float32)[:, :, None, None], X.shape)
    assert np.allclose(out, expected, atol=1e-6)


def test_integer_shift_fills_the_uncovered_row_with_the_border_median():
    rng = np.random.default_rng(3)
    x = rng.random((1, 5, 5), dtype=np.float32)
    border = np.array([*x[0, 0], *x[0, 4], *x[0, 1:4, 0], *x[0, 1:4, 4]])  # the 16 border pixels
    out = affine_warp(x, shift=(1.0, 0.0), fill="border")
    assert np.allclose(out[0, 0], np.median(border))
    assert np.array_equal(out[0, 1:], x[0, :-1])


def test_zero_fill_stays_the_default_of_the_warp_primitives(digits):
    x = np.full((1, 6, 6), 0.7, np.float32)
    assert affine_warp(x, shift=(2.0, 0.0))[0, :2].max() == 0.0
    assert Augmenter().fill == "border"


def test_augmenting_xray_images_no_longer_darkens_their_border():
    # The X-ray background is about 0.7; a zero fill turned a fifth of the border pixels dark.
    X = make_transfer_task("medium", n_train=100, seed=0, domain="xray").X_train
    settings_ = dict(max_shift=1.0, max_rotation=15.0, max_scale=0.1)

    def dark_border_fraction(out):
        border = np.concatenate([out[:, 0], out[:, -1], out[:, :, 0], out[:, :, -1]], axis=1)
        return float(np.mean(border < 0.3))

    before = dark_border_fraction(X)
    zero = dark_border_fraction(Augmenter(**settings_, fill=0.0)(X, np.random.default_rng(0)))
    fixed = dark_border_fraction(Augmenter(**settings_)(X, np.random.default_rng(0)))
    assert zero > before + 0.10
    assert fixed < before + 0.02


@pytest.mark.parametrize(
    "field, bad",
    [("max_shift", -1.0), ("max_rotation", 200.0), ("max_scale", 1.5), ("noise_sigma", -0.1),
     ("p", 2.0), ("fill", "edge"), ("fill", float("nan"))],
)
def test_fields_are_frozen_and_checked_again_at_each_call(digits, field, bad):
    import dataclasses

    aug = Augmenter()
    with pytest.raises(dataclasses.FrozenInstanceError, match=f"'{field}'"):
        setattr(aug, field, bad)
    with pytest.raises(ValueError, match=f"^{field} must be"):
        dataclasses.replace(aug, **{field: bad})
    object.__setattr__(aug, field, bad)   # past the dataclass's guard: the call still refuses it
    with pytest.raises(ValueError, match=f"^Augmenter field {field} must be .*changed after construction"):
        aug(digits, np.random.default_rng(0))
