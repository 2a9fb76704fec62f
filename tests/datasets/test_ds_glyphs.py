import numpy as np
import pytest

from tlkit.datasets import make_glyphs
from tlkit.datasets.glyphs import glyph_prototypes


def test_default_corpus_shape_dtype_and_levels():
    X, y = make_glyphs()  # 100 classes x 250 = 25,000 images
    assert X.shape == (25000, 8, 8) and X.dtype == np.float32
    assert y.shape == (25000,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [250] * 100
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert np.array_equal(X * 16, np.round(X * 16))  # quantised to k/16, like the UCI digits
    # stroke density comparable to the real digits (their mean ink is 0.305)
    assert 0.2 < X.mean() < 0.4
    assert np.all(X.reshape(len(X), -1).max(axis=1) > 0)  # no blank images


def test_deterministic_given_seed_and_different_across_seeds():
    a = make_glyphs(n_classes=5, n_per_class=8, seed=3)
    b = make_glyphs(n_classes=5, n_per_class=8, seed=3)
    c = make_glyphs(n_classes=5, n_per_class=8, seed=4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_prototypes_are_a_prefix_across_n_classes():
    small, ns_small, _ = glyph_prototypes(5, seed=1)
    big, ns_big, _ = glyph_prototypes(50, seed=1)
    assert np.array_equal(small, big[:5]) and np.array_equal(ns_small, ns_big[:5])


def test_samples_vary_within_a_class_and_classes_differ():
    X, y = make_glyphs(n_classes=4, n_per_class=20, seed=0)
    means = np.stack([X[y == c].mean(0) for c in range(4)])
    within = np.mean([X[y == c].std(0).mean() for c in range(4)])
    assert within > 0.05
    assert min(np.abs(means[i] - means[j]).mean()
               for i in range(4) for j in range(i + 1, 4)) > 0.05


def test_other_image_size():
    X, _ = make_glyphs(n_classes=3, n_per_class=4, image_size=16)
    assert X.shape == (12, 16, 16)
    assert np.array_equal(X * 16, np.round(X * 16))


def test_warped_glyphs_on_a_canvas():
    X, y = make_glyphs(n_classes=3, n_per_class=10, warp=True, canvas=12)
    assert X.shape == (30, 12, 12) and X.dtype == np.float32
    assert X.min() >= 0.0 and X.max() <= 1.0
    Xd, _ = make_glyphs(n_classes=3, n_per_class=10, warp=True)  # default canvas 8 + 4
    assert Xd.shape == (30, 12, 12)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_classes": 1}, "n_classes"),
        ({"n_classes": 2.5}, "n_classes"),
        ({"n_per_class": 0}, "n_per_class"),
        ({"image_size": 2}, "image_size"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": True}, "seed"),
        ({"warp": "yes"}, "warp"),
        ({"canvas": 12}, "canvas"),
        ({"warp": True, "canvas": 6}, "canvas"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_glyphs(**{"n_classes": 3, "n_per_class": 2, **kwargs})
