"""Model selection inside the training data: a validation split or stratified k-fold CV.

The test split is touched once, at the end, by the chosen candidate. Everything chosen
before that (epochs, a learning rate, C, augmentation on or off...) is chosen here, on
examples taken from the training set only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..argcheck import check_int
from .stats import ties_within


def _labels(y, name: str = "y") -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of class labels; got shape {arr.shape}")
    return arr


def _check_fraction(fraction) -> float:
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction < 1:
        raise ValueError(f"fraction must be a number in (0, 1); got {fraction!r}")
    return float(fraction)


def stratified_indices(labels: np.ndarray, fraction: float, rng: np.random.Generator, *,
                       min_held_out: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(kept, held_out)`` indices, sorted: about ``fraction`` of every class held out (rounded,
    and at least ``min_held_out`` of a class with two examples or more), and at least one example
    of every class kept. The one stratified split of the course: the manager's test split and
    the protocol's validation split."""
    kept, held_out = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_held = min(len(members) - 1, max(min_held_out, int(np.floor(fraction * len(members) + 0.5))))
        held_out.extend(members[:n_held])
        kept.extend(members[n_held:])
    return np.sort(np.array(kept, dtype=np.int64)), np.sort(np.array(held_out, dtype=np.int64))


def train_validation_split(X, y, *, fraction: float = 0.2, seed: int = 0):
    """``(X_tr, y_tr, X_val, y_val)``: about ``fraction`` of every class held out for validation.

    Each class with at least 2 examples gives at least one to validation and keeps at least
    one for training. ValueError when the validation part would hold fewer examples than
    there are classes (a class with a single example cannot be in both parts).
    """
    fraction = _check_fraction(fraction)
    labels = _labels(y)
    X = np.asarray(X)
    if len(X) != len(labels):
        raise ValueError(f"X and y have different lengths: {len(X)} samples, {len(labels)} labels")
    rng = np.random.default_rng(check_int(seed, "seed", 0))
    classes = np.unique(labels)
    train_idx, val_idx = stratified_indices(labels, fraction, rng, min_held_out=1)
    if len(val_idx) < len(classes):
        counts = {int(c) if np.issubdtype(type(c), np.integer) else c: int(np.sum(labels == c))
                  for c in classes}
        raise ValueError(
            f"train_validation_split: the validation part would hold {len(val_idx)} examples for "
            f"{len(classes)} classes (examples per class: {counts}); every class needs at least "
            "2 examples (one to train on, one to validate on)"
        )
    return X[train_idx], labels[train_idx], X[val_idx], labels[val_idx]


def stratified_folds(y, k: int, *, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` pairs ``(train_idx, val_idx)``; every class spread evenly over the folds.

    Every validation fold holds at least one example of every class, so ``k`` may be at
    most the number of examples of the rarest class (ValueError otherwise).
    """
    labels = _labels(y)
    k = check_int(k, "k", 2)
    classes, counts = np.unique(labels, return_counts=True)
    rarest = int(counts.min())
    if k > rarest:
        raise ValueError(
            f"k must be between 2 and {rarest} (the number of examples of the rarest class, "
            f"{classes[int(np.argmin(counts))]!r}) for stratified folds; got k={k}"
        )
    rng = np.random.default_rng(check_int(seed, "seed", 0))
    fold_of = np.empty(len(labels), dtype=np.int64)
    offset = 0
    for label in classes:
        members = rng.permutation(np.flatnonzero(labels == label))
        # Deal the class round-robin, continuing where the previous class stopped, so the
        # folds' sizes differ by at most one.
        fold_of[members] = (offset + np.arange(len(members))) % k
        offset = (offset + len(members)) % k
    everything = np.arange(len(labels))
    return [(everything[fold_of != f], everything[fold_of == f]) for f in range(k)]


@dataclass
class Selection:
    """The chosen candidate (``best``, its key ``best_name``), every candidate's mean
    validation score, the keys tied with the best within the band, and how it was chosen."""

    best: Any
    scores: dict[str, float]
    ties: list[str]
    method: str
    best_name: str = ""
    tie_band: float = 0.0

    def summary(self) -> str:
        parts = ", ".join(f"{key} {value:.3f}" for key, value in self.scores.items()) or "no scores"
        tied = f"; tied within {self.tie_band:g}: {', '.join(map(str, self.ties))}" if len(self.ties) > 1 else ""
        return f"{self.best_name} by {self.method} ({parts}){tied}"


def select(
    candidates: Mapping[str, Any],
    score: Callable[[Any, np.ndarray, np.ndarray, np.ndarray, np.ndarray], float],
    X,
    y,
    *,
    folds: int | None = 3,
    seed: int = 0,
    tie_band: float = 0.005,
) -> Selection:
    """Choose among ``candidates`` by ``score(candidate, X_tr, y_tr, X_val, y_val)`` (higher wins).

    ``folds=k``: stratified k-fold CV inside ``(X, y)``, the mean score per candidate.
    When the rarest class has fewer than k examples, a validation split (20%) is used
    instead, with a warning; ``folds=None`` asks for the validation split directly. When
    even that is impossible (a class with a single example), the first candidate is
    returned, with a warning. Never pass the test split as ``(X, y)``.
    """
    if not isinstance(candidates, Mapping) or not candidates:
        raise ValueError(f"candidates must be a non-empty mapping name -> candidate; got {candidates!r}")
    if not callable(score):
        raise TypeError(f"score must be a callable (candidate, X_tr, y_tr, X_val, y_val) -> float; got {score!r}")
    if isinstance(tie_band, bool) or not isinstance(tie_band, int | float) or tie_band < 0:
        raise ValueError(f"tie_band must be a number >= 0; got {tie_band!r}")
    labels = _labels(y)
    X = np.asarray(X)
    if len(X) != len(labels):
        raise ValueError(f"X and y have different lengths: {len(X)} samples, {len(labels)} labels")
    names = list(candidates)
    rarest = int(np.unique(labels, return_counts=True)[1].min())

    splits = None
    if folds is not None:
        folds = check_int(folds, "folds", 2)
        if folds <= rarest:
            splits = [(X[tr], labels[tr], X[va], labels[va])
                      for tr, va in stratified_folds(labels, folds, seed=seed)]
            method = f"{folds}-fold CV"
        else:
            warnings.warn(
                f"select: the rarest class has {rarest} example(s), too few for {folds}-fold CV; "
                "falling back to a single stratified validation split (20%)",
                UserWarning, stacklevel=2,
            )
    if splits is None:
        try:
            splits = [train_validation_split(X, labels, fraction=0.2, seed=seed)]
            method = "validation split"
        except ValueError as exc:
            warnings.warn(
                f"select: too few examples to validate anything ({exc}); returning the first "
                f"candidate, {names[0]!r}, unvalidated",
                UserWarning, stacklevel=2,
            )
            return Selection(best=candidates[names[0]], scores={}, ties=[names[0]],
                             method="fallback: first candidate (too few examples to validate)",
                             best_name=names[0], tie_band=float(tie_band))

    scores = {}
    for name in names:
        values = [float(score(candidates[name], *split)) for split in splits]
        scores[name] = float(np.mean(values))
    best_name = max(names, key=lambda key: scores[key])  # the first of exact ties
    ties = ties_within(scores, tie_band)
    return Selection(best=candidates[best_name], scores=scores, ties=ties, method=method,
                     best_name=best_name, tie_band=float(tie_band))
