"""Self-checking exercises: a registry with stable ids, checks for notebooks, scores for grading.

In a notebook::

    from tlkit.exercises import check, solution_or_reference

    check("02.1", softmax_cross_entropy)
    softmax_cross_entropy = solution_or_reference("02.1", softmax_cross_entropy)
"""

from tlkit.exercises.checking import CheckResult, check, run_checks, score, solution_or_reference
from tlkit.exercises.registry import (
    Case,
    CheckFailure,
    Exercise,
    all_exercises,
    exercise_ids,
    get_exercise,
)

__all__ = [
    "Case",
    "CheckFailure",
    "CheckResult",
    "Exercise",
    "all_exercises",
    "check",
    "exercise_ids",
    "get_exercise",
    "run_checks",
    "score",
    "solution_or_reference",
]
