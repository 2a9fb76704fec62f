"""The size x similarity rule: categories, boundaries, strategies and freeze fractions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tlkit.strategy_rule import (
    RULE,
    SIMILARITIES,
    SIZE_CATEGORIES,
    STRATEGIES,
    choose_strategy,
    explain,
    fraction_to_freeze,
    size_category,
)


@pytest.mark.parametrize(
    ("size", "category"),
    [(1, "small"), (999, "small"), (1000, "medium"), (9999, "medium"), (10000, "large"),
     (99999, "large"), (100000, "large"), (10**9, "large"),
     (np.int64(5000), "medium")],
)
def test_size_category_boundaries(size, category):
    assert size_category(size) == category


@pytest.mark.parametrize(
    ("size", "similarity", "strategy", "freeze"),
    [
        (500, "high", "feature_extraction", 1.0),
        (500, "medium", "fine_tuning", 0.5),
        (500, "low", "fine_tuning", 0.5),
        (5000, "high", "fine_tuning", 0.5),
        (5000, "medium", "fine_tuning", 0.25),
        (5000, "low", "fine_tuning", 0.25),
        (50000, "high", "fine_tuning", 0.0),
        (50000, "medium", "fine_tuning", 0.0),
        (50000, "low", "from_scratch", 0.0),  # the course: large and different -> from scratch
        (500000, "high", "fine_tuning", 0.0),
        (500000, "medium", "fine_tuning", 0.0),
        (500000, "low", "from_scratch", 0.0),
    ],
)
def test_the_table(size, similarity, strategy, freeze):
    assert choose_strategy(size, similarity) == strategy
    assert fraction_to_freeze(size, similarity) == freeze
    assert explain(size, similarity).endswith(".")


def test_the_table_covers_every_cell_once():
    assert set(RULE) == {(c, s) for c in SIZE_CATEGORIES for s in SIMILARITIES}
    for cell in RULE.values():
        assert cell.strategy in STRATEGIES and 0.0 <= cell.freeze <= 1.0
        assert (cell.strategy == "feature_extraction") == (cell.freeze == 1.0)
        if cell.strategy == "from_scratch":
            assert cell.freeze == 0.0


def test_the_large_and_different_cell_names_the_alternative():
    assert "fine-tuning" in explain(50_000, "low").lower()


@pytest.mark.parametrize("bad", [0, -5, 3.0, 2.5, "100", None, True])
def test_bad_size_names_the_argument(bad):
    with pytest.raises(ValueError, match="dataset_size"):
        size_category(bad)
    with pytest.raises(ValueError, match="dataset_size"):
        choose_strategy(bad, "high")


@pytest.mark.parametrize("bad", ["High", "similar", "", None, 1])
def test_bad_similarity_lists_the_valid_ones(bad):
    with pytest.raises(ValueError, match="task_similarity must be one of 'high', 'medium', 'low'"):
        choose_strategy(100, bad)
    with pytest.raises(ValueError, match="task_similarity"):
        fraction_to_freeze(100, bad)


@given(st.integers(min_value=1, max_value=10**7), st.integers(min_value=1, max_value=10**7))
def test_more_data_never_freezes_more(a, b):
    small, large = sorted((a, b))
    for similarity in SIMILARITIES:
        assert fraction_to_freeze(large, similarity) <= fraction_to_freeze(small, similarity)


@given(st.integers(min_value=1, max_value=10**7))
def test_less_similar_never_freezes_more(size):
    fractions = [fraction_to_freeze(size, s) for s in SIMILARITIES]  # high, medium, low
    assert fractions == sorted(fractions, reverse=True)
