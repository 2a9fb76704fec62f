"""Selection inside the training data: splits, folds, the CV/fallback chain and ties."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tlkit.protocol import Selection, select, stratified_folds, train_validation_split


def labels(counts):
    return np.repeat(np.arange(len(counts)), counts)


def test_validation_split_is_stratified_and_disjoint():
    y = labels([10, 20, 5])
    X = np.arange(len(y))[:, None] * 1.0
    X_tr, y_tr, X_val, y_val = train_validation_split(X, y, fraction=0.2, seed=3)
    # round(0.2 * n) per class: 2, 4, 1
    assert np.bincount(y_val).tolist() == [2, 4, 1]
    assert np.bincount(y_tr).tolist() == [8, 16, 4]
    assert set(X_tr[:, 0]).isdisjoint(X_val[:, 0]) and len(X_tr) + len(X_val) == len(y)
    assert np.array_equal(y[X_val[:, 0].astype(int)], y_val)  # rows travel with their labels
    again = train_validation_split(X, y, fraction=0.2, seed=3)
    assert np.array_equal(again[2], X_val)


def test_validation_split_refuses_fewer_validation_examples_than_classes():
    with pytest.raises(ValueError, match=r"validation part would hold 2 examples for 3 classes"):
        train_validation_split(np.zeros((5, 2)), labels([2, 2, 1]))
    with pytest.raises(ValueError, match=r"fraction must be a number in \(0, 1\); got 1.5"):
        train_validation_split(np.zeros((4, 2)), labels([2, 2]), fraction=1.5)
    with pytest.raises(ValueError, match="different lengths"):
        train_validation_split(np.zeros((3, 2)), labels([2, 2]))


def test_folds_partition_every_class_evenly():
    y = labels([7, 5, 9])
    folds = stratified_folds(y, 3, seed=1)
    assert len(folds) == 3
    all_val = np.sort(np.concatenate([val for _, val in folds]))
    assert np.array_equal(all_val, np.arange(len(y)))  # every example validated exactly once
    for train, val in folds:
        assert set(train).isdisjoint(val) and len(train) + len(val) == len(y)
        assert set(y[val]) == {0, 1, 2}
    sizes = [len(val) for _, val in folds]
    assert max(sizes) - min(sizes) <= 1


def test_folds_bad_k():
    with pytest.raises(ValueError, match=r"k must be between 2 and 2 .*rarest class.*got k=3"):
        stratified_folds(labels([5, 2]), 3)
    with pytest.raises(ValueError, match="k must be an integer >= 2"):
        stratified_folds(labels([5, 5]), 1)


def nearest_mean_score(shift, X_tr, y_tr, X_val, y_val):
    """Accuracy of a nearest-class-mean classifier with the means moved by ``shift``."""
    means = np.stack([X_tr[y_tr == c].mean(axis=0) for c in range(2)]) + shift
    pred = np.argmin(((X_val[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    return float(np.mean(pred == y_val))


def two_blobs(n_per_class):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2, 0.5, (n_per_class, 2)), rng.normal(2, 0.5, (n_per_class, 2))])
    return X, labels([n_per_class, n_per_class])


def test_select_by_cv_finds_the_good_candidate_and_reports_ties():
    X, y = two_blobs(12)
    candidates = {"none": 0.0, "tiny": 0.01, "huge": 10.0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sel = select(candidates, nearest_mean_score, X, y, folds=3)
    assert isinstance(sel, Selection) and sel.method == "3-fold CV"
    assert sel.scores["none"] == sel.scores["tiny"] == 1.0 and sel.scores["huge"] < 0.9
    assert sel.best == 0.0 and sel.best_name == "none"  # the first of an exact tie
    assert sel.ties == ["none", "tiny"]


def test_select_falls_back_with_a_warning_never_silently():
    X, y = two_blobs(2)  # 2 per class: too few for 3 folds, enough for a split
    with pytest.warns(UserWarning, match="too few for 3-fold CV; falling back"):
        sel = select({"none": 0.0, "huge": 10.0}, nearest_mean_score, X, y, folds=3)
    assert sel.method == "validation split" and sel.best_name == "none"
    X1, y1 = X[[0, 2]], y[[0, 2]]  # one example per class: nothing to validate on
    with pytest.warns(UserWarning) as caught:
        sel = select({"huge": 10.0, "none": 0.0}, nearest_mean_score, X1, y1, folds=3)
    messages = [str(w.message) for w in caught]
    assert "falling back to a single stratified validation split" in messages[0]
    assert "returning the first candidate, 'huge', unvalidated" in messages[1]
    assert sel.best == 10.0 and sel.method.startswith("fallback") and sel.scores == {}


def test_select_without_folds_uses_a_validation_split_quietly():
    X, y = two_blobs(10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sel = select({"none": 0.0}, nearest_mean_score, X, y, folds=None)
    assert sel.method == "validation split"


def test_select_bad_input():
    X, y = two_blobs(5)
    with pytest.raises(ValueError, match="candidates"):
        select({}, nearest_mean_score, X, y)
    with pytest.raises(TypeError, match="score"):
        select({"a": 1}, "accuracy", X, y)
    with pytest.raises(ValueError, match="folds must be an integer >= 2"):
        select({"a": 1}, nearest_mean_score, X, y, folds=1)
    with pytest.raises(ValueError, match="tie_band"):
        select({"a": 1}, nearest_mean_score, X, y, tie_band=-1)
