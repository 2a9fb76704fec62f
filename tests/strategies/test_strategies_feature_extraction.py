"""FeatureExtractor: frozen base, features computed once, the head learns."""

from __future__ import annotations

import numpy as np
import pytest

from tlkit import PretrainedModel
from tlkit.history import TrainingHistory
from tlkit.strategies import FeatureExtractor


@pytest.fixture
def base():
    return PretrainedModel("simple", 6)


def test_construction_freezes_the_whole_base(base):
    fe = FeatureExtractor(base, 3)
    assert all(base.is_frozen(name) for name in base.get_layer_names())
    assert fe.trainable_layers() == ["head"]


def test_train_returns_history_and_learns(blobs, base):
    X, y = blobs(n=60)
    fe = FeatureExtractor(base, 3)
    h = fe.train(X, y, {"epochs": 15, "learning_rate": 0.05})
    assert isinstance(h, TrainingHistory)
    assert h.epochs == 15 and len(h.loss) == len(h.accuracy) == 15
    assert h.val_loss == [] and h.val_accuracy == []
    assert h.loss[-1] < h.loss[0]
    assert fe.score(X, y) > 0.9
    assert h.learning_rates["layer1"] == [0.0] * 15 and h.learning_rates["head"][0] == 0.05


def test_validation_data_gives_curves(blobs, base):
    X, y = blobs(n=60)
    h = FeatureExtractor(base, 3).train(X[:40], y[:40], {"epochs": 3},
                                        validation_data=(X[40:], y[40:]))
    assert len(h.val_loss) == len(h.val_accuracy) == 3


def test_predict_and_predict_proba_shapes(blobs, base):
    X, y = blobs(n=60)
    fe = FeatureExtractor(base, 3)
    fe.train(X, y, {"epochs": 2})
    one = fe.predict(X[0])
    assert isinstance(one, int) and 0 <= one < 3
    batch = fe.predict(X[:5])
    assert batch.shape == (5,) and np.issubdtype(batch.dtype, np.integer)
    p1 = fe.predict_proba(X[0])
    assert p1.shape == (3,) and np.isclose(p1.sum(), 1, atol=1e-5)
    p = fe.predict_proba(X[:5])
    assert p.shape == (5, 3) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(batch, np.argmax(p, axis=1))
    assert fe.predict(X[:5].tolist()).tolist() == batch.tolist()  # nested lists
    assert set(fe.evaluate(X, y)) == {"loss", "accuracy"}


def test_base_features_are_computed_once_in_bounded_batches(blobs, base):
    """However many epochs, the base sees each example once, never more than feature_batch_size at a time."""
    X, y = blobs(n=50)
    fe = FeatureExtractor(base, 3, feature_batch_size=16)
    seen = []
    original = base.network.infer

    def counting_infer(x):
        seen.append(len(x))
        return original(x)

    base.network.infer = counting_infer
    fe.train(X, y, {"epochs": 5, "batch_size": 8})
    assert sum(seen) == 50 and max(seen) <= 16  # one pass over the data, in bounded batches
    seen.clear()
    fe.train(X[:30], y[:30], {"epochs": 2}, validation_data=(X[30:], y[30:]))
    assert sum(seen) == 50  # training and validation features, once each


def test_frozen_base_never_changes_by_a_bit(blobs, base):
    X, y = blobs(n=60)
    before = base.state_dict()
    fe = FeatureExtractor(base, 3, hidden_units=8, dropout=0.2)
    fe.train(X, y, {"epochs": 3, "learning_rate": 0.5})
    fe.train(X, y, {"epochs": 2, "learning_rate": 0.5, "augment": lambda xb, rng: xb + 0.1})
    after = base.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)  # incl. BatchNorm stats


def test_works_from_one_example_two_classes_and_images():
    fe = FeatureExtractor(PretrainedModel("simple", 6), 2)
    h = fe.train([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]], [1], {"epochs": 2})
    assert h.epochs == 2 and fe.predict([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) in (0, 1)
    images = PretrainedModel("simple", (8, 8))
    X = np.random.default_rng(0).random((7, 8, 8), dtype=np.float32)
    fe = FeatureExtractor(images, 4)
    fe.train(X, [0, 1, 2, 3, 0, 1, 2], {"epochs": 1})
    assert fe.predict_proba(X).shape == (7, 4)


def test_same_seed_same_numbers(blobs, base):
    X, y = blobs(n=60)
    runs = []
    for _ in range(2):
        fe = FeatureExtractor(PretrainedModel("simple", 6), 3, hidden_units=5, dropout=0.3)
        h = fe.train(X, y, {"epochs": 3, "seed": 4})
        runs.append((h.loss, fe.predict_proba(X)))
    assert runs[0][0] == runs[1][0] and np.array_equal(runs[0][1], runs[1][1])
    assert runs[0][1].dtype == np.float32


@pytest.mark.parametrize(
    ("X", "y", "config", "match"),
    [
        (np.zeros((4, 6)), [0, 1, 2], None, "different lengths"),
        (np.zeros((0, 6)), [], None, "empty"),
        (np.zeros((3, 6)), [0, 1, 3], None, "label 3.*0..2"),
        (np.zeros((3, 6)), [0, -1, 2], None, "label -1"),
        (np.full((3, 6), np.nan), [0, 1, 2], None, "NaN"),
        (np.zeros((3, 6)), [0, 1, 2], {"learning_rate": 0}, "learning_rate"),
        (np.zeros((3, 6)), [0, 1, 2], {"learning_rate": -1.0}, "learning_rate"),
        (np.zeros((3, 6)), [0, 1, 2], {"epochs": 0}, "epochs"),
        (np.zeros((3, 5)), [0, 1, 2], None, "shape"),
        (np.zeros((3, 6)), [0, 1, 2], {"epoch": 3}, "unknown key"),
    ],
)
def test_bad_input(base, X, y, config, match):
    with pytest.raises(ValueError, match=match):
        FeatureExtractor(base, 3).train(X, y, config)


@pytest.mark.parametrize("num_classes", [1, 0, 2.5, "3"])
def test_bad_num_classes(base, num_classes):
    with pytest.raises(ValueError, match="num_classes"):
        FeatureExtractor(base, num_classes)


def head_layers(strategy) -> list[str]:
    return [name for name, _ in strategy.head.layers]


def test_dropout_acts_on_the_hidden_layer_and_on_the_features_only_when_asked(base):
    assert head_layers(FeatureExtractor(base, 3)) == ["fc"]
    assert head_layers(FeatureExtractor(base, 3, hidden_units=8, dropout=0.2)) == [
        "hidden", "relu", "dropout", "fc"]
    assert head_layers(FeatureExtractor(base, 3, feature_dropout=0.1)) == ["dropout_in", "fc"]
    assert head_layers(FeatureExtractor(base, 3, hidden_units=8, dropout=0.2, feature_dropout=0.1)) == [
        "dropout_in", "hidden", "relu", "dropout", "fc"]
    with pytest.raises(ValueError, match=r"dropout=0.5 applies to the head's hidden layer.*hidden_units"):
        FeatureExtractor(base, 3, dropout=0.5)
    with pytest.raises(ValueError, match="feature_dropout"):
        FeatureExtractor(base, 3, feature_dropout=1.5)


def test_options_are_keyword_only(base):
    with pytest.raises(TypeError):
        FeatureExtractor(base, 3, 8)


def test_bad_base_and_head_options(base):
    with pytest.raises(TypeError, match="PretrainedModel"):
        FeatureExtractor("medium", 3)
    with pytest.raises(ValueError, match="dropout"):
        FeatureExtractor(base, 3, hidden_units=4, dropout=1.0)
    with pytest.raises(ValueError, match="hidden_units"):
        FeatureExtractor(base, 3, hidden_units=0)
