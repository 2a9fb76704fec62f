"""The course's size x similarity rule: which transfer strategy, and how much to freeze.

This module is the single source of truth for the rule taught in Part 4. The strategy
manager and exercise 04.1 both use it, so the notebooks, the manager and the checks can
never disagree.

Two questions decide the strategy:

* **How much labelled data is there?** Few examples cannot train many weights without
  over-fitting, so the fewer examples, the more of the pretrained network stays frozen.
* **How similar is the target task to the source task?** Early blocks learn generic
  features (edges, blobs, textures) that transfer almost anywhere; late blocks learn
  features specific to the source task. The more different the target task, the more of
  the late blocks need retraining.

Size categories (``dataset_size`` = number of labelled training examples)::

    small       dataset_size <  1,000
    medium       1,000 <= dataset_size < 10,000
    large       10,000 <= dataset_size

The table (strategy, and the fraction of the base's blocks kept frozen from the input)::

                 high similarity          medium similarity        low similarity
    small        feature_extraction (all) fine_tuning (1/2)        fine_tuning (1/2)
    medium       fine_tuning (1/2)        fine_tuning (1/4)        fine_tuning (1/4)
    large        fine_tuning (none)       fine_tuning (none)       from_scratch (none)
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

__all__ = [
    "SIMILARITIES",
    "SIZE_CATEGORIES",
    "STRATEGIES",
    "RULE",
    "STRATEGY_LABELS",
    "RuleCell",
    "check_similarity",
    "size_category",
    "choose_strategy",
    "fraction_to_freeze",
    "explain",
]

SIMILARITIES: tuple[str, ...] = ("high", "medium", "low")
SIZE_CATEGORIES: tuple[str, ...] = ("small", "medium", "large")
STRATEGIES: tuple[str, ...] = ("feature_extraction", "fine_tuning", "from_scratch")
#: Each strategy's name as the course writes it (tables, legends, the explorer).
STRATEGY_LABELS: dict[str, str] = {"feature_extraction": "feature extraction", "fine_tuning": "fine-tuning",
                                   "from_scratch": "from scratch"}

# Lower bounds (inclusive) of the size categories above "small".
SIZE_BOUNDARIES: dict[str, int] = {"medium": 1_000, "large": 10_000}


class RuleCell(NamedTuple):
    """One cell of the size x similarity table."""

    strategy: str
    freeze: float  # fraction of the pretrained blocks to keep frozen, counted from the input
    why: str  # the reasoning, in a sentence a student can learn from


# The table itself: (size category, task similarity) -> what to do and why.
RULE: dict[tuple[str, str], RuleCell] = {
    # --- small: fewer than 1,000 examples -------------------------------------------------
    ("small", "high"): RuleCell(
        "feature_extraction", 1.0,
        "Few examples and a similar task: the pretrained features already fit, and training "
        "only a new head avoids over-fitting, so freeze the whole base.",
    ),
    ("small", "medium"): RuleCell(
        "fine_tuning", 0.5,
        "Few examples and a somewhat different task: keep the generic early blocks frozen "
        "and retrain the middle and last blocks with a low learning rate.",
    ),
    ("small", "low"): RuleCell(
        "fine_tuning", 0.5,
        "Few examples and a different task: the late, task-specific features do not fit, but "
        "there is too little data to retrain everything, so freeze the early blocks and "
        "retrain the middle and last ones.",
    ),
    # --- medium: 1,000 to 9,999 examples ---------------------------------------------------
    ("medium", "high"): RuleCell(
        "fine_tuning", 0.5,
        "Enough data to adapt the top of the network safely, and the task is similar, so "
        "only the upper half needs to move.",
    ),
    ("medium", "medium"): RuleCell(
        "fine_tuning", 0.25,
        "Enough data and a somewhat different task: freeze only the first quarter (generic "
        "edges and textures) and fine-tune the rest.",
    ),
    ("medium", "low"): RuleCell(
        "fine_tuning", 0.25,
        "Enough data and a different task: most blocks must adapt, but the first quarter "
        "still holds generic features worth keeping.",
    ),
    # --- large: 10,000 examples or more ----------------------------------------------------
    ("large", "high"): RuleCell(
        "fine_tuning", 0.0,
        "Plenty of data: fine-tune every block, with a low learning rate so the good "
        "pretrained features of a similar task are refined, not destroyed.",
    ),
    ("large", "medium"): RuleCell(
        "fine_tuning", 0.0,
        "Plenty of data: fine-tune every block; the pretrained weights are still a better "
        "starting point than random ones.",
    ),
    ("large", "low"): RuleCell(
        "from_scratch", 0.0,
        "Plenty of data for a different task: there is enough data to learn task-specific "
        "features from random weights, and the source features may even mislead (negative "
        "transfer). Fine-tuning every block is the alternative to compare it with: "
        "it sometimes still gets there sooner.",
    ),
}


def size_category(dataset_size: int) -> str:
    """Return "small" (< 1,000), "medium" (1,000-9,999) or "large" (>= 10,000)."""
    _check_size(dataset_size)
    if dataset_size < SIZE_BOUNDARIES["medium"]:
        return "small"
    if dataset_size < SIZE_BOUNDARIES["large"]:
        return "medium"
    return "large"


def choose_strategy(dataset_size: int, task_similarity: str) -> str:
    """Return "feature_extraction", "fine_tuning" or "from_scratch" by the course's rule."""
    return _cell(dataset_size, task_similarity).strategy


def fraction_to_freeze(dataset_size: int, task_similarity: str) -> float:
    """Fraction of the pretrained blocks (from the input side) to keep frozen, in [0, 1]."""
    return _cell(dataset_size, task_similarity).freeze


def explain(dataset_size: int, task_similarity: str) -> str:
    """The reasoning behind the rule's choice, as one or two sentences."""
    return _cell(dataset_size, task_similarity).why


def _cell(dataset_size: int, task_similarity: str) -> RuleCell:
    category = size_category(dataset_size)
    check_similarity(task_similarity)
    return RULE[(category, task_similarity)]


def _check_size(dataset_size: object) -> None:
    if isinstance(dataset_size, bool) or not isinstance(dataset_size, numbers.Integral):
        raise ValueError(
            f"dataset_size must be an integer number of examples (>= 1), "
            f"got {dataset_size!r} of type {type(dataset_size).__name__}"
        )
    if dataset_size < 1:
        raise ValueError(f"dataset_size must be at least 1, got {dataset_size!r}")


def check_similarity(task_similarity: object, name: str = "task_similarity") -> str:
    """``task_similarity`` if it is "high", "medium" or "low"; a ValueError naming ``name`` otherwise."""
    if not isinstance(task_similarity, str) or task_similarity not in SIMILARITIES:
        valid = ", ".join(repr(s) for s in SIMILARITIES)
        raise ValueError(f"{name} must be one of {valid}; got {task_similarity!r}")
    return task_similarity
