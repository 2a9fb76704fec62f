"""The registry of exercises: stable ids, what the student writes, and how it is checked.

An exercise lives in its own module (``ex01_batched_features.py``, ...) that defines one
``EXERCISE = Exercise(...)``. This module lists those modules; nothing else needs to
change to add an exercise. Ids are stable ("<part>.<number>", such as "03.1"): the
notebooks, the grading CSV and the tests refer to them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = [
    "Case",
    "CheckFailure",
    "Exercise",
    "get_exercise",
    "exercise_ids",
    "all_exercises",
]

# Modules that define one EXERCISE each, in course order.
_EXERCISE_MODULES = (
    "tlkit.exercises.ex01_batched_features",
    "tlkit.exercises.ex02_softmax_cross_entropy",
    "tlkit.exercises.ex03_per_layer_update",
    "tlkit.exercises.ex04_recommend_strategy",
)


class CheckFailure(Exception):
    """Raised by a case when the student's answer is wrong.

    ``kind`` names the kind of mistake (such as "wrong_value" or "mutated_input"); it
    selects the hint shown to the student.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Case:
    """One checking case: ``run(student_fn)`` returns when the answer is right and raises
    :class:`CheckFailure` when it is wrong. Exceptions from the student's code propagate
    and are reported by the checker."""

    name: str
    run: Callable[[Callable], None]


@dataclass(frozen=True)
class Exercise:
    """An exercise: what the student writes, the reference answer and the checks."""

    id: str
    title: str
    function_name: str
    reference: Callable
    cases: tuple[Case, ...]
    hints: Mapping[str, str]  # failure kind -> hint; "default" is required
    points: float = 10.0
    description: str = ""

    def __post_init__(self) -> None:
        if "default" not in self.hints:
            raise ValueError(f"exercise {self.id}: hints needs a 'default' entry")
        if not self.cases:
            raise ValueError(f"exercise {self.id}: at least one case is needed")
        names = [case.name for case in self.cases]
        if len(set(names)) != len(names):
            raise ValueError(f"exercise {self.id}: case names must be unique, got {names}")

    def hint(self, kind: str) -> str:
        """The hint for a kind of failure (the default hint for an unknown kind)."""
        if kind in self.hints:
            return self.hints[kind]
        return GENERIC_HINTS.get(kind, self.hints["default"])


# Hints shared by every exercise, used when an exercise has no hint of its own for a kind.
GENERIC_HINTS: dict[str, str] = {
    "no_return": "Your function returns None: end it with `return` and the result.",
    "not_callable": "Pass the function itself to the check, without calling it: "
    "`check(\"01.1\", my_function)`, not `check(\"01.1\", my_function(...))`.",
}

_REGISTRY: dict[str, Exercise] = {}


def _load() -> dict[str, Exercise]:
    if not _REGISTRY:
        for module_name in _EXERCISE_MODULES:
            exercise = importlib.import_module(module_name).EXERCISE
            if exercise.id in _REGISTRY:
                raise RuntimeError(f"duplicate exercise id {exercise.id!r} in {module_name}")
            _REGISTRY[exercise.id] = exercise
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
    if not isinstance(exercise_id, str) or exercise_id not in registry:
        valid = ", ".join(repr(i) for i in registry)
        raise ValueError(f"exercise_id must be one of {valid}, got {exercise_id!r}")
    return registry[exercise_id]
