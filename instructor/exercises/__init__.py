"""The answer key: reference solutions and hidden cases (instructor side, never shipped).

``ref_<part>_<n>.py`` holds exercise ``<part>.<n>``'s ``reference`` and its
``make_hidden_cases(rng)``. The student side (``tlkit.exercises``) has the specs, the
public cases and their expected answers as data (``tlkit/exercises/public_expected.json``),
which ``python -m instructor.exercises --write-expected`` regenerates from the references.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from types import ModuleType
from typing import Any

import numpy as np

from tlkit.exercises.plain import decode, encode
from tlkit.exercises.registry import Case, get_exercise
from tlkit.exercises.scoring import ExerciseResult, score_outcomes

__all__ = ["reference", "reference_source", "hidden_cases", "expected", "score", "public_answers"]


def _module(exercise_id: str) -> ModuleType:
    exercise = get_exercise(exercise_id)  # ValueError naming the valid ids
    return importlib.import_module(f"instructor.exercises.ref_{exercise.id.replace('.', '_')}")


def reference(exercise_id: str) -> Any:
    """The reference solution (a function or class) of an exercise."""
    return _module(exercise_id).reference


def reference_source(exercise_id: str) -> str:
    """The Python source of the reference solution, for comparing a student's code with it.

    The definition comes after the imports of its module that it uses, so that an imported
    name (``Adam``, ``losses.softmax``) is compared as its module path, as it is in a
    student's cell that imports it (the build exercises' classes stand on tlkit's engine).
    """
    definition = inspect.getsource(reference(exercise_id))
    used = {node.id for node in ast.walk(ast.parse(definition)) if isinstance(node, ast.Name)}
    imports = []
    for node in ast.parse(inspect.getsource(_module(exercise_id))).body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)) and used & {
                alias.asname or alias.name.split(".")[0] for alias in node.names}:
            imports.append(ast.unparse(node))
    return "\n".join(imports) + "\n\n\n" + definition if imports else definition


def hidden_cases(exercise_id: str, seed: int) -> tuple[Case, ...]:
    """Hidden cases drawn from ``seed`` (a seed the student never sees)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    exercise = get_exercise(exercise_id)
    cases = tuple(_module(exercise_id).make_hidden_cases(np.random.default_rng(int(seed))))
    names = [case.name for case in (*exercise.public_cases, *cases)]
    if len(set(names)) != len(names):
        raise RuntimeError(f"exercise {exercise_id}: hidden case names repeat: {names}")
    return cases


_EXPECTED_CACHE: dict[tuple[str, str, str], str] = {}


def expected(exercise_id: str, case: Case) -> Any:
    """The reference's answer for ``case``, as decoded plain data (computed in this process)."""
    key = (exercise_id, case.name, encode(case.inputs))
    if key not in _EXPECTED_CACHE:
        if len(_EXPECTED_CACHE) > 4096:
            _EXPECTED_CACHE.clear()
        exercise = get_exercise(exercise_id)
        _EXPECTED_CACHE[key] = encode(exercise.apply(reference(exercise_id), case.fresh_inputs()))
    return decode(_EXPECTED_CACHE[key])


def public_answers() -> dict[str, dict[str, dict[str, str]]]:
    """Every exercise's public answers, as ``public_expected.json`` stores them."""
    from tlkit.exercises.registry import all_exercises, case_key

    return {exercise.id: {case.name: {"inputs": case_key(case),
                                      "answer": encode(expected(exercise.id, case))}
                          for case in exercise.public_cases}
            for exercise in all_exercises()}


def score(exercise_id: str, cases, outcomes) -> ExerciseResult:
    """Score a student's outcomes on ``cases`` against the reference's answers."""
    exercise = get_exercise(exercise_id)
    return score_outcomes(exercise, cases, outcomes, [expected(exercise_id, case) for case in cases])
