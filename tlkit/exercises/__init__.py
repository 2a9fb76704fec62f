"""Self-checking exercises: a registry with stable ids, checks for notebooks, scores for grading.

The student's code only ever produces plain data (:mod:`tlkit.exercises.plain`); the
instructor's side computes the expected answers and compares. In a notebook::

    from tlkit.exercises import check, solution_or_fallback

    check("02.1", softmax_cross_entropy)
    softmax_cross_entropy = solution_or_fallback("02.1", softmax_cross_entropy)

A grader runs :func:`run_cases` in the student's (sandboxed) process and
:func:`score_outcomes` in its own.
"""

from tlkit.exercises.checking import check, run_checks, solution_or_fallback
from tlkit.exercises.plain import PlainDataError, decode, encode
from tlkit.exercises.registry import (
    Case,
    CheckFailure,
    Exercise,
    all_exercises,
    exercise_ids,
    get_exercise,
)
from tlkit.exercises.running import run_cases
from tlkit.exercises.scoring import ExerciseResult, score_outcomes

__all__ = [
    "Case",
    "CheckFailure",
    "Exercise",
    "ExerciseResult",
    "PlainDataError",
    "all_exercises",
    "check",
    "decode",
    "encode",
    "exercise_ids",
    "get_exercise",
    "run_cases",
    "run_checks",
    "score_outcomes",
    "solution_or_fallback",
]
