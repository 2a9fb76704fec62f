import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlkit.datasets import TransferTask, list_transfer_tasks, load_digits, make_transfer_task
from tlkit.datasets.transfer_tasks import balanced_draw

TASKS = list_transfer_tasks()


def test_list_of_tasks():
    assert TASKS == [("high", "digits"), ("medium", "xray"), ("medium", "wild"),
                     ("low", "textures")]


@pytest.mark.parametrize("similarity, domain", TASKS)
def test_task_contract(similarity, domain):
    t = make_transfer_task(similarity, n_train=100, seed=0, domain=domain)
    assert isinstance(t, TransferTask)
    assert t.similarity == similarity and t.domain == domain
    assert t.input_shape == ((12, 12) if domain == "wild" else (8, 8))
    assert t.num_classes == len(t.class_names) == (6 if domain == "textures" else 10)
    assert t.X_train.shape == (100, *t.input_shape) and t.y_train.shape == (100,)
    assert t.X_test.shape[1:] == t.input_shape and len(t.X_test) == len(t.y_test)
    for X in (t.X_train, t.X_test):
        assert X.dtype == np.float32 and X.min() >= 0.0 and X.max() <= 1.0
    for y in (t.y_train, t.y_test):
        assert y.dtype == np.int64 and y.min() >= 0 and y.max() < t.num_classes
    assert 1 <= t.description.count(". ") + 1 <= 4 and len(t.description) > 80
    # disjoint by index, and the test split holds every class
    assert not set(t.train_indices.tolist()) & set(t.test_indices.tolist())
    assert np.unique(t.y_test).size == t.num_classes
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.num_classes = 3


def test_default_is_high_and_medium_defaults_to_xray():
    assert make_transfer_task().name == "high-digits"
    assert make_transfer_task("medium").domain == "xray"


def test_high_task_is_the_real_digits():
    X, y = load_digits()
    t = make_transfer_task("high", n_train=50, seed=1)
    assert np.array_equal(t.X_train, X[t.train_indices])
    assert np.array_equal(t.y_test, y[t.test_indices])


@pytest.mark.parametrize("similarity, domain", TASKS)
def test_test_split_is_fixed_and_stratified(similarity, domain):
    a = make_transfer_task(similarity, 10, seed=0, domain=domain)
    b = make_transfer_task(similarity, 200, seed=5, domain=domain)
    assert np.array_equal(a.test_indices, b.test_indices)
    assert np.array_equal(a.X_test, b.X_test)
    everything = make_transfer_task(similarity, "all", seed=0, domain=domain)
    n_all = len(everything.y_train) + len(everything.y_test)
    counts = np.bincount(np.concatenate([everything.y_train, everything.y_test]))
    assert np.array_equal(np.bincount(everything.y_test), np.round(0.4 * counts).astype(int))
    assert len(np.union1d(everything.train_indices, everything.test_indices)) == n_all


def test_digit_test_split_size():
    t = make_transfer_task("high", "all")
    assert len(t.y_test) == 719 and len(t.y_train) == 1797 - 719


def test_same_seed_same_task_different_seed_different_draw():
    for s, d in [("medium", "xray"), ("medium", "wild")]:
        a = make_transfer_task(s, 100, seed=2, domain=d)
        b = make_transfer_task(s, 100, seed=2, domain=d)
        c = make_transfer_task(s, 100, seed=3, domain=d)
        assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_train, b.y_train)
        assert not np.array_equal(a.train_indices, c.train_indices)


@pytest.mark.parametrize("n", [1, 7, 25, 100, 1000])
def test_draws_are_balanced(n):
    t = make_transfer_task("high", n, seed=4)
    counts = np.bincount(t.y_train, minlength=10)
    assert counts.sum() == n and counts.max() - counts.min() <= 1


def test_draws_are_nested():
    small = make_transfer_task("low", 30, seed=9, domain="textures")
    big = make_transfer_task("low", 90, seed=9, domain="textures")
    assert np.array_equal(big.train_indices[:30], small.train_indices)


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(0, 12), min_size=2, max_size=6), data=st.data())
def test_balanced_draw_property(sizes, data):
    y = np.repeat(np.arange(len(sizes)), sizes)
    if len(y) == 0:
        return
    n = data.draw(st.integers(1, len(y)))
    pick = balanced_draw(y, n, seed=data.draw(st.integers(0, 100)))
    assert len(pick) == n == len(set(pick.tolist()))
    counts = np.bincount(y[pick], minlength=len(sizes))
    sizes = np.asarray(sizes)
    # a class has fewer than the largest count only if it is exhausted
    assert np.all((counts >= counts.max() - 1) | (counts == sizes))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"similarity": "huge"}, "similarity"),
        ({"similarity": None}, "similarity"),
        ({"similarity": "medium", "domain": "mri"}, "domain"),
        ({"similarity": "high", "domain": "xray"}, "domain"),
        ({"n_train": 0}, "n_train"),
        ({"n_train": 1079}, "n_train"),
        ({"n_train": 10.0}, "n_train"),
        ({"n_train": "most"}, "n_train"),
        ({"n_train": True}, "n_train"),
        ({"seed": 1.0}, "seed"),
        ({"seed": -3}, "seed"),
        ({"seed": "1"}, "seed"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name) as err:
        make_transfer_task(**kwargs)
    assert "got" in str(err.value)
