"""The registry of exercises: stable ids, what the student writes, and how it is checked.

An exercise lives in its own module (``ex01_batched_features.py``, ...) that defines one
``EXERCISE = Exercise(...)``. This module lists those modules. Ids are stable
("<part>.<number>", such as "03.1"): the notebooks, the grading CSV and the tests use them.

The split that makes checking unforgeable (see ``/work/briefs/EXERCISE_API.md``):

* a :class:`Case` holds plain-data inputs only;
* ``exercise.apply(student_object, inputs)`` runs in the student's process and returns
  plain data (:mod:`tlkit.exercises.plain` encodes it, strictly);
* ``exercise.compare(case, expected, got)`` runs in the instructor's process on decoded
  data and raises :class:`CheckFailure` for a wrong answer.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tlkit.exercises.plain import decode, encode

__all__ = [
    "Case",
    "CheckFailure",
    "Exercise",
    "GENERIC_HINTS",
    "get_exercise",
    "exercise_ids",
    "all_exercises",
]

# Modules that define one EXERCISE each, in course order.
_EXERCISE_MODULES = (
    "tlkit.exercises.ex01_batched_features",
    "tlkit.exercises.ex01_freezing",
    "tlkit.exercises.ex02_softmax_cross_entropy",
    "tlkit.exercises.ex02_softmax_head",
    "tlkit.exercises.ex03_per_layer_update",
    "tlkit.exercises.ex03_unfreezing_schedule",
    "tlkit.exercises.ex04_recommend_strategy",
    "tlkit.exercises.ex04_compare_strategies",
)

_ID_PATTERN = re.compile(r"0[1-4]\.[1-9][0-9]?")


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


@dataclass(frozen=True)
class Exercise:
    """An exercise: what the student writes, the reference answer, the cases and the checks."""

    id: str
    part: int
    title: str
    name: str
    points: float
    description: str
    reference: Callable
    public_cases: tuple[Case, ...]
    make_hidden_cases: Callable[[np.random.Generator], tuple[Case, ...]]
    apply: Callable[[Any, Mapping], Any]
    compare: Callable[[Case, Any, Any], None]
    hints: Mapping[str, str]
    library_names: tuple[str, ...] = ()

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

    @property
    def function_name(self) -> str:
        """Old name of :attr:`name` (the function or class the student's cell defines)."""
        return self.name

    def hidden_cases(self, seed: int) -> tuple[Case, ...]:
        """Hidden cases drawn from ``seed`` (a seed the student never sees)."""
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        cases = tuple(self.make_hidden_cases(np.random.default_rng(int(seed))))
        names = [case.name for case in (*self.public_cases, *cases)]
        if len(set(names)) != len(names):
            raise RuntimeError(f"exercise {self.id}: hidden case names repeat: {names}")
        return cases

    def expected(self, case: Case) -> Any:
        """The reference's answer for ``case``, as decoded plain data."""
        key = (self.id, case.name, encode(case.inputs))
        if key not in _EXPECTED_CACHE:
            if len(_EXPECTED_CACHE) > 4096:
                _EXPECTED_CACHE.clear()
            _EXPECTED_CACHE[key] = encode(self.apply(self.reference, case.fresh_inputs()))
        return decode(_EXPECTED_CACHE[key])

    def hint(self, kind: str) -> str:
        """The hint for a kind of failure (the default hint for an unknown kind)."""
        if kind in self.hints:
            return self.hints[kind]
        return GENERIC_HINTS.get(kind, self.hints["default"])


_EXPECTED_CACHE: dict[tuple[str, str, str], str] = {}
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
