import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tlkit import PretrainedModel
from tlkit.plots import (
    architecture_rows,
    feature_maps,
    filter_images,
    pca_2d,
    plot_architecture,
    plot_feature_maps,
    plot_feature_projection,
    plot_filters,
    show_images,
)
from tlkit.strategies import FineTuner


@pytest.fixture(scope="module")
def model():
    return PretrainedModel("medium")


def _images(n=10, seed=0):
    return np.random.default_rng(seed).uniform(0, 16, size=(n, 8, 8)).astype(np.float32)


def test_show_images_tiles_into_one_axes_with_labels():
    X, y = _images(10), np.arange(10) % 4
    ax = show_images(X, y, n=6, title="six", ncols=3)
    assert isinstance(ax, Axes)
    assert ax.get_title() == "six"
    (image,) = ax.get_images()
    assert image.get_array().shape == (2 * 8 + 2, 3 * 8 + 2 * 2)  # 2 rows x 3 columns, padding 2
    assert [t.get_text() for t in ax.texts] == [str(v) for v in y[:6]]


def test_show_images_accepts_channels_vectors_and_an_axes():
    fig = Figure()
    ax = fig.subplots()
    assert show_images(_images(3)[..., None], ax=ax) is ax
    ax = show_images(np.random.default_rng(0).normal(size=(4, 20)), y=[0, 1, 0, 1])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["label 0", "label 1", "label 0", "label 1"]
    with pytest.raises(ValueError, match="y has 2 labels"):
        show_images(_images(4), y=[0, 1])
    with pytest.raises(ValueError, match="X must be"):
        show_images(np.zeros((2, 3, 4, 5, 6)))


def test_plot_filters_shows_every_first_layer_kernel(model):
    kernels = filter_images(model, "layer1")
    W = model.network["layer1"].layers[0][1].params["W"]
    assert kernels.shape == (16, 3, 3)
    np.testing.assert_allclose(kernels[5], W[:, :, 0, 5], rtol=1e-6)
    ax = plot_filters(model)
    assert isinstance(ax, Axes) and "16 filters of 3x3" in ax.get_title()
    shown = ax.get_images()[0].get_array()
    assert shown.shape == (2 * 3 + 1, 8 * 3 + 7)
    assert np.nanmax(np.abs(shown)) == pytest.approx(1.0)  # each kernel scaled to its largest weight


def test_filters_of_deeper_layers_and_of_vector_models(model):
    assert filter_images(model, "layer2").shape == (32, 3, 3)
    assert filter_images(model, "layer2", in_channel=3).shape == (32, 3, 3)
    vec = PretrainedModel("simple", 16)
    assert filter_images(vec, "layer1").shape == (64, 4, 4)  # 16 inputs -> 4x4 pictures
    with pytest.raises(ValueError, match="not a square image"):
        filter_images(PretrainedModel("simple", 20), "layer1")
    with pytest.raises(ValueError, match="layer must be one of"):
        plot_filters(model, layer="conv1")


def test_feature_maps_shrink_with_depth(model):
    maps = feature_maps(model, _images(1)[0])
    assert {k: v.shape for k, v in maps.items()} == {
        "layer1": (16, 8, 8), "layer2": (32, 4, 4), "layer3": (64, 4, 4), "layer4": (64, 2, 2)}
    assert all(np.all(v >= 0) for v in maps.values())  # ReLU outputs
    axes = plot_feature_maps(model, _images(1)[0], layers=["layer1", "layer3"], max_maps=4)
    assert len(axes) == 3 and axes[0].get_title() == "input"
    assert axes[2].get_title().startswith("layer3: 64 maps of 4x4")
    with pytest.raises(ValueError, match="image model"):
        feature_maps(PretrainedModel("simple", 16), np.zeros(16))
    with pytest.raises(ValueError, match="unknown name"):
        feature_maps(model, _images(1)[0], layers=["layer7"])


def test_pca_matches_numpy_and_the_projection_plot():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 5)) * np.array([5.0, 2.0, 1.0, 0.1, 0.1])
    points, ratio = pca_2d(X)
    cov = np.cov(X, rowvar=False)
    eigenvalues = np.sort(np.linalg.eigvalsh(cov))[::-1]
    assert ratio == pytest.approx(eigenvalues[:2] / eigenvalues.sum(), rel=1e-6)
    assert np.var(points[:, 0], ddof=1) == pytest.approx(eigenvalues[0], rel=1e-6)
    y = (X[:, 0] > 0).astype(int)
    axes = plot_feature_projection({"pretrained": X, "random": rng.normal(size=(50, 3))}, y)
    assert len(axes) == 2 and axes[0].get_title().startswith("pretrained")
    assert sum(len(c.get_offsets()) for c in axes[0].collections) == 50
    with pytest.raises(ValueError, match="has 50 samples but y has 3"):
        plot_feature_projection({"a": X}, [0, 1, 0])


def test_architecture_rows_and_diagram(model):
    rows = architecture_rows(model)
    assert [r["name"] for r in rows] == ["input", "layer1", "layer2", "layer3", "layer4"]
    assert rows[2]["shape"] == (4, 4, 32) and rows[-1]["shape"] == (256,)
    assert [r["params"] for r in rows[1:]] == list(model.layer_parameter_counts().values())
    ft = FineTuner(model.copy(), 10, layers_to_unfreeze=["layer4"])
    rows = architecture_rows(ft)
    assert rows[-1]["name"] == "head" and rows[-1]["shape"] == (10,)
    assert [r["state"] for r in rows] == ["input", "frozen", "frozen", "frozen", "trainable", "head"]
    ax = plot_architecture(ft)
    assert isinstance(ax, Axes)
    texts = [t.get_text() for t in ax.texts]
    assert {"input", "layer1", "layer4", "head"} <= set(texts)
    assert any("18,624 params" in t for t in texts)
    assert len(ax.patches) == 6  # one box per block, input and head
    assert ax.get_title() == f"{ft.count_parameters():,} parameters, {ft.count_parameters(True):,} trainable"
