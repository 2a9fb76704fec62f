"""The experiment protocol behind every comparison the course makes.

* :mod:`~tlkit.protocol.recipes`: one registry of recipes (strategy, learning rate, batch
  size, budget in updates), and the one way to build and train a strategy from a recipe;
* :mod:`~tlkit.protocol.selection`: choices made on a validation split or k-fold CV inside
  the training data, never on the test split;
* :mod:`~tlkit.protocol.stats`: paired differences over seeds with their 95% interval,
  ties within a band, regret;
* :mod:`~tlkit.protocol.records`: study results as JSON;
* :mod:`~tlkit.protocol.rule_check`: the course's rule judged by regret against measurements.
"""

from .recipes import (
    RECIPES,
    Recipe,
    build_strategy,
    epochs_for_updates,
    fit,
    get_recipe,
    make_config,
    updates_done,
)
from .records import load_meta, load_records, save_records, study_results
from .rule_check import RuleVerdict, judge_choice, judge_rule
from .selection import Selection, select, stratified_folds, stratified_indices, train_validation_split
from .stats import PairedDifference, format_difference, paired_difference, regret, ties_within

__all__ = [
    "RECIPES",
    "STUDY_RESULTS",
    "PairedDifference",
    "Recipe",
    "RuleVerdict",
    "Selection",
    "build_strategy",
    "epochs_for_updates",
    "fit",
    "format_difference",
    "get_recipe",
    "judge_choice",
    "judge_rule",
    "load_meta",
    "load_records",
    "make_config",
    "paired_difference",
    "regret",
    "save_records",
    "study_results",
    "select",
    "stratified_folds",
    "stratified_indices",
    "ties_within",
    "train_validation_split",
    "updates_done",
]


def __getattr__(name: str):
    # STUDY_RESULTS (the studies' results folder) is found on first use, not at import time.
    if name == "STUDY_RESULTS":
        return study_results()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
