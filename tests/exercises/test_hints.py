"""Typical wrong answers get a FAIL whose hint names the actual mistake."""

from __future__ import annotations

import numpy as np
import pytest

from instructor import exercises as answer_key
from tlkit.exercises import check, get_exercise


def first_kind(exercise_id, fn):
    result = check(exercise_id, fn, verbose=False)
    assert result.status == "failed", result.messages
    return next(kind for kind in result.kinds if kind)


# --- 01.1 -----------------------------------------------------------------------------


def batches_as_list(extract_fn, X, batch_size):
    return [extract_fn(X[i:i + batch_size]).astype(np.float32) for i in range(0, len(X), batch_size)]


def drops_last_batch(extract_fn, X, batch_size):
    parts = [extract_fn(X[i:i + batch_size]) for i in range(0, len(X) - batch_size + 1, batch_size)]
    return np.concatenate(parts).astype(np.float32)


def keeps_float64(extract_fn, X, batch_size):
    return np.concatenate([extract_fn(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])


def all_at_once(extract_fn, X, batch_size):
    return extract_fn(X).astype(np.float32)


@pytest.mark.parametrize("fn, kind", [
    (batches_as_list, "list_of_batches"),
    (drops_last_batch, "last_batch"),
    (keeps_float64, "wrong_dtype"),
    (all_at_once, "batch_too_large"),
])
def test_01_1_mistakes(fn, kind, capsys):
    assert first_kind("01.1", fn) == kind
    check("01.1", fn)
    out = capsys.readouterr().out
    assert f"Hint: {get_exercise('01.1').hints[kind]}" in out


def test_01_1_list_of_batches_hint_talks_about_the_list_not_the_last_batch(capsys):
    check("01.1", batches_as_list)
    out = capsys.readouterr().out
    assert "is a list of 3 arrays (one per batch), expected one array of shape (12, 6)" in out
    assert "`np.concatenate(parts, axis=0)` before returning" in out
    assert "last" not in out


# --- 02.1 -----------------------------------------------------------------------------


def _probs(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def summed_loss(logits, labels):
    n = len(labels)
    p = _probs(logits)
    grad = p.copy()
    grad[np.arange(n), labels] -= 1
    return float(-np.log(p[np.arange(n), labels]).sum()), (grad / n).astype(logits.dtype)


def grad_not_divided(logits, labels):
    n = len(labels)
    p = _probs(logits)
    grad = p.copy()
    grad[np.arange(n), labels] -= 1
    return float(-np.log(p[np.arange(n), labels]).mean()), grad.astype(logits.dtype)


def no_shift(logits, labels):
    n = len(labels)
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    grad = p.copy()
    grad[np.arange(n), labels] -= 1
    return float(-np.log(p[np.arange(n), labels]).mean()), (grad / n).astype(logits.dtype)


@pytest.mark.parametrize("fn, kind", [
    (summed_loss, "not_mean"),
    (grad_not_divided, "grad_not_divided"),
    (no_shift, "not_finite"),
])
def test_02_1_mistakes(fn, kind):
    kinds = check("02.1", fn, verbose=False).kinds
    assert kind in kinds


# --- 03.1 -----------------------------------------------------------------------------


def in_place(weights, grads, base_lr, multipliers, frozen):
    for name, w in weights.items():
        if name not in frozen:
            w -= base_lr * multipliers.get(name, 1.0) * grads[name]
    return weights


def updates_frozen_too(weights, grads, base_lr, multipliers, frozen):
    return {n: w - base_lr * multipliers.get(n, 1.0) * grads.get(n, np.ones_like(w))
            for n, w in weights.items()}


def test_03_1_mistakes():
    assert "mutated_input" in check("03.1", in_place, verbose=False).kinds
    assert first_kind("03.1", updates_frozen_too) == "frozen_changed"


# --- 04.1 -----------------------------------------------------------------------------


def off_by_one(dataset_size, task_similarity):
    if dataset_size <= 1_000:
        return "feature_extraction" if task_similarity == "high" else "fine_tuning"
    if dataset_size <= 10_000:
        return "fine_tuning"
    return "from_scratch" if task_similarity == "low" else "fine_tuning"


def old_very_large_rule(dataset_size, task_similarity):
    if dataset_size < 1_000:
        return "feature_extraction" if task_similarity == "high" else "fine_tuning"
    if dataset_size < 100_000:
        return "fine_tuning"
    return "from_scratch" if task_similarity == "low" else "fine_tuning"


def misspelled(dataset_size, task_similarity):
    return "fine-tuning"


def similar_means_high(dataset_size, task_similarity):
    if dataset_size < 1_000:  # 'medium' similarity taken for 'high'
        return "feature_extraction" if task_similarity != "low" else "fine_tuning"
    if dataset_size < 10_000:
        return "fine_tuning"
    return "from_scratch" if task_similarity == "low" else "fine_tuning"


def large_means_different(dataset_size, task_similarity):
    if dataset_size < 1_000:
        return "feature_extraction" if task_similarity == "high" else "fine_tuning"
    if dataset_size < 10_000:
        return "fine_tuning"
    return "fine_tuning" if task_similarity == "high" else "from_scratch"


def test_04_1_mistakes():
    assert first_kind("04.1", off_by_one) == "boundary"
    assert "size_category" in check("04.1", old_very_large_rule, verbose=False).kinds  # at 50,000
    assert first_kind("04.1", misspelled) == "unknown_strategy"


@pytest.mark.parametrize("fn", [similar_means_high, large_means_different])
def test_04_1_a_similarity_mistake_gets_the_similarity_hint_even_at_a_boundary(fn, capsys):
    result = check("04.1", fn, verbose=False)
    assert set(kind for kind in result.kinds if kind) == {"similarity"}
    check("04.1", fn)
    out = capsys.readouterr().out
    assert f"Hint: {get_exercise('04.1').hints['similarity']}" in out
    assert get_exercise("04.1").hints["boundary"] not in out


def test_04_1_reference_agrees_with_the_rule_on_a_wide_grid():
    from tlkit.strategy_rule import choose_strategy
    reference = answer_key.reference("04.1")
    sizes = [1, 2, 50, 998, 999, 1_000, 1_001, 5_000, 9_999, 10_000, 10_001, 50_000, 99_999,
             100_000, 10**7]
    for size in sizes:
        for similarity in ("high", "medium", "low"):
            assert reference(size, similarity) == choose_strategy(size, similarity)
