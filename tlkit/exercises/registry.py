"""The registry of exercises: stable ids, what the student writes, and how it is checked.

An exercise lives in its own module (``ex01_batched_features.py``, ...) that defines one
``EXERCISE = Exercise(...)``. This module lists those modules. Ids are stable
("<part>.<number>", such as "03.1"): the notebooks, the grading CSV and the tests use them.

The split that makes checking unforgeable:

* a :class:`Case` holds plain-data inputs only;
* ``exercise.apply(student_object, inputs)`` runs in the student's process and returns
  plain data (:mod:`tlkit.exercises.plain` encodes it, strictly);
* ``exercise.compare(case, expected, got)`` runs in the checking process on decoded
  data and raises :class:`CheckFailure` for a wrong answer.

The answer key is not here. The expected answers of the public cases ship as data
(``public_expected.json``, written by the instructor's ``python -m instructor.exercises
--write-expected``); the reference solutions and the hidden cases stay on the
instructor's side (``instructor/exercises/``), which never ships to students.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tlkit.exercises.plain import decode, encode

__all__ = [
    "Case",
    "CheckFailure",
    "Exercise",
    "GENERIC_HINTS",
    "COURSE_CLASSES_LIBRARY",
    "get_exercise",
    "exercise_ids",
    "all_exercises",
    "PUBLIC_EXPECTED_FILE",
    "case_key",
]

PUBLIC_EXPECTED_FILE = Path(__file__).with_name("public_expected.json")

# Modules that define one EXERCISE each, in course order.
_EXERCISE_MODULES = (
    "tlkit.exercises.ex01_batched_features",
    "tlkit.exercises.ex01_pretrained_model",
    "tlkit.exercises.ex02_softmax_cross_entropy",
    "tlkit.exercises.ex02_feature_extractor",
    "tlkit.exercises.ex03_per_layer_update",
    "tlkit.exercises.ex03_fine_tuner",
    "tlkit.exercises.ex04_recommend_strategy",
    "tlkit.exercises.ex04_transfer_learning_manager",
    "tlkit.exercises.ex05_adapter",
)

_ID_PATTERN = re.compile(r"0[1-5]\.[1-9][0-9]?")


class CheckFailure(Exception):
    """A wrong answer. ``kind`` names the mistake (such as "wrong_value"); it selects the hint."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Case:
    """One case: a name and plain-data inputs (checked with :func:`~tlkit.exercises.plain.encode`)."""

    name: str
    inputs: Mapping[str, Any]
    hidden: bool = False

    def __post_init__(self) -> None:
        if type(self.name) is not str or not self.name:
            raise TypeError(f"Case name must be a non-empty str, got {self.name!r}")
        if type(self.inputs) is not dict:
            raise TypeError(f"Case {self.name!r}: inputs must be a dict, got "
                            f"{type(self.inputs).__name__}")
        encode(self.inputs, root=f"case {self.name!r} inputs")

    def fresh_inputs(self) -> dict[str, Any]:
        """A deep copy of the inputs, rebuilt from their plain-data encoding."""
        return decode(encode(self.inputs))


# Hints shared by every exercise, used when an exercise has no hint of its own for a kind.
GENERIC_HINTS: dict[str, str] = {
    "no_return": "Your code returns None: end the function with `return` and the result.",
    "not_done": "Write your code in place of `raise NotImplementedError(...)`, run the cell, "
    "then run the check again.",
    "wrong_type": "Return plain values (int, float, str, bool, lists, dicts or NumPy arrays) "
    "of the types the exercise asks for.",
    "malformed": "The grader received an outcome it cannot read; run the exercise again.",
}

# ``library_names`` of the exercises where the student builds the course's own classes
# (issue 18): tlkit's implementations of those classes are a library answer, tlkit's engine
# (tlkit.nn, tlkit.parts, tlkit.training...) is what the student builds them on. The grader
# resolves names (instructor/grading/library.py): a student's own `FineTuner` is not tlkit's.
COURSE_CLASSES_LIBRARY: tuple[str, ...] = (
    "tlkit.strategies",
    "tlkit.manager",
    "tlkit.strategy_rule",
    "tlkit.pretrained.PretrainedModel",
    "tlkit.PretrainedModel",
    "tlkit.FeatureExtractor",
    "tlkit.FineTuner",
    "tlkit.FromScratch",
    "tlkit.TransferLearningManager",
)


@dataclass(frozen=True)
class Exercise:
    """An exercise: what the student writes, its public cases and the checks (no answer key)."""

    id: str
    part: int
    title: str
    name: str
    points: float
    description: str
    public_cases: tuple[Case, ...]
    apply: Callable[[Any, Mapping], Any]
    compare: Callable[[Case, Any, Any], None]
    hints: Mapping[str, str]
    library_names: tuple[str, ...] = ()
    fallback: str | None = None  # dotted name of the tlkit object a notebook uses while the exercise is not done

    def __post_init__(self) -> None:
        if not _ID_PATTERN.fullmatch(self.id) or int(self.id[:2]) != self.part:
            raise ValueError(f"exercise id must look like '0<part>.<n>' with part {self.part}; "
                             f"got {self.id!r}")
        if "default" not in self.hints:
            raise ValueError(f"exercise {self.id}: hints needs a 'default' entry")
        if not self.public_cases:
            raise ValueError(f"exercise {self.id}: at least one public case is needed")
        names = [case.name for case in self.public_cases]
        if len(set(names)) != len(names):
            raise ValueError(f"exercise {self.id}: case names must be unique, got {names}")
        if not (self.points > 0):
            raise ValueError(f"exercise {self.id}: points must be > 0, got {self.points!r}")

    def public_expected(self, case: Case) -> Any:
        """The shipped expected answer of a public case, as decoded plain data."""
        answers = _public_answers().get(self.id, {})
        entry = answers.get(case.name)
        if entry is None or entry["inputs"] != case_key(case):
            raise RuntimeError(f"exercise {self.id}: no shipped answer for the public case "
                               f"{case.name!r} with these inputs; run `python -m instructor.exercises "
                               f"--write-expected`")
        return decode(entry["answer"])

    def fallback_object(self) -> Any:
        """The tlkit object a notebook falls back to (None when the exercise has none)."""
        if self.fallback is None:
            return None
        module, _, attribute = self.fallback.rpartition(".")
        return getattr(importlib.import_module(module), attribute)

    def hint(self, kind: str) -> str:
        """The hint for a kind of failure (the default hint for an unknown kind)."""
        if kind in self.hints:
            return self.hints[kind]
        return GENERIC_HINTS.get(kind, self.hints["default"])


def case_key(case: Case) -> str:
    """The plain-data text of a case's inputs: a shipped answer belongs to exactly these inputs."""
    return encode(case.inputs)


_PUBLIC_ANSWERS: dict[str, dict[str, dict[str, str]]] = {}


def _public_answers() -> dict[str, dict[str, dict[str, str]]]:
    if not _PUBLIC_ANSWERS:
        _PUBLIC_ANSWERS.update(json.loads(PUBLIC_EXPECTED_FILE.read_text(encoding="utf-8")))
    return _PUBLIC_ANSWERS


_REGISTRY: dict[str, Exercise] = {}


def _load() -> dict[str, Exercise]:
    if not _REGISTRY:
        loaded: dict[str, Exercise] = {}
        for module_name in _EXERCISE_MODULES:
            exercise = importlib.import_module(module_name).EXERCISE
            if exercise.id in loaded:
                raise RuntimeError(f"duplicate exercise id {exercise.id!r} in {module_name}")
            loaded[exercise.id] = exercise
        _REGISTRY.update(loaded)
    return _REGISTRY


def exercise_ids() -> list[str]:
    """All exercise ids, in course order."""
    return list(_load())


def all_exercises() -> list[Exercise]:
    """All exercises, in course order."""
    return list(_load().values())


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise with this id; ValueError listing the valid ids otherwise."""
    registry = _load()
    if type(exercise_id) is not str or exercise_id not in registry:
        valid = ", ".join(repr(i) for i in registry)
        raise ValueError(f"exercise_id must be one of {valid}; got {exercise_id!r}")
    return registry[exercise_id]
