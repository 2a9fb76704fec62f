import numpy as np
import pytest

from tlkit.datasets import gaussian_blur, in_the_wild, load_digits, make_textures, xray_style
from tlkit.datasets.textures import TEXTURE_CLASS_NAMES


@pytest.fixture(scope="module")
def digits():
    return load_digits()[0][:100]


def test_blur_preserves_flat_images_and_mass():
    flat = np.full((2, 8, 8), 0.3, dtype=np.float32)
    assert np.allclose(gaussian_blur(flat, 1.0), 0.3)
    X = np.zeros((1, 9, 9), dtype=np.float32)
    X[0, 4, 4] = 1.0
    out = gaussian_blur(X, 0.7)
    assert np.isclose(out.sum(), 1.0, atol=1e-5) and out[0, 4, 4] < 1.0
    assert np.allclose(out[0], out[0].T) and np.array_equal(gaussian_blur(X, 0.0), X)


def test_xray_inverts_and_lowers_contrast(digits):
    out = xray_style(digits, np.random.default_rng(0), noise_sigma=0.0)
    assert out.shape == digits.shape and out.dtype == np.float32
    assert 0.5 - 0.45 / 2 - 1e-6 <= out.min() and out.max() <= 0.5 + 0.45 / 2 + 1e-6
    ink = digits > 0.5
    assert out[ink].mean() < out[~ink].mean()  # strokes now darker than the background


def test_xray_deterministic_and_clipped(digits):
    a = xray_style(digits, np.random.default_rng(1))
    b = xray_style(digits, np.random.default_rng(1))
    c = xray_style(digits, np.random.default_rng(2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.min() >= 0.0 and a.max() <= 1.0


def test_in_the_wild_canvas_and_range(digits):
    out = in_the_wild(digits, np.random.default_rng(0), canvas=12)
    assert out.shape == (100, 12, 12) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert np.array_equal(out, in_the_wild(digits, np.random.default_rng(0), canvas=12))
    calm = in_the_wild(digits, np.random.default_rng(0), max_shift=0, max_rotation=0,
                       max_scale=0, noise_sigma=0, clutter=0)
    assert np.allclose(calm[:, 2:10, 2:10], digits)


def test_textures():
    X, y = make_textures(n_per_class=20, seed=0)
    assert X.shape == (120, 8, 8) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [20] * len(TEXTURE_CLASS_NAMES)
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert np.array_equal(X, make_textures(n_per_class=20, seed=0)[0])
    # horizontal stripes vary along rows, vertical ones along columns
    Xc, yc = make_textures(n_per_class=50, seed=1, noise_sigma=0.0, max_tilt=0.0)
    h, v = Xc[yc == 0], Xc[yc == 1]
    assert h.std(axis=2).mean() < h.std(axis=1).mean()
    assert v.std(axis=1).mean() < v.std(axis=2).mean()


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda X, r: xray_style(X, r, blur_sigma=-1), "blur_sigma"),
        (lambda X, r: xray_style(X, r, contrast=2.0), "contrast"),
        (lambda X, r: xray_style(X, r, noise_sigma=-0.1), "noise_sigma"),
        (lambda X, r: xray_style(X, None), "rng"),
        (lambda X, r: in_the_wild(X, r, canvas=6), "canvas"),
        (lambda X, r: in_the_wild(X, r, clutter=-1), "clutter"),
        (lambda X, r: in_the_wild(X, r, max_rotation=-5), "max_rotation"),
        (lambda X, r: make_textures(n_per_class=0), "n_per_class"),
        (lambda X, r: make_textures(seed="0"), "seed"),
    ],
)
def test_bad_arguments_name_the_argument(digits, call, name):
    with pytest.raises(ValueError, match=name):
        call(digits, np.random.default_rng(0))
