"""Hidden tests for nbgrader: the code inside ``### BEGIN HIDDEN TESTS`` regions.

``instructor/nbgrader_stamp.py`` puts, right after every exercise cell of ``solutions/``, a
locked nbgrader grade cell whose hidden region ends with
``hidden_points("<id>", <the student's function or class>)``. Under
``nbgrader autograde`` that expression's value is the cell's output, which nbgrader
reads as partial credit (points out of the cell's ``points``). The student release has
the region removed.

Unlike ``python -m instructor.grading`` this runs in the student's own kernel, as nbgrader
does: a student who monkeypatches tlkit from the notebook can fool it. The hidden cases
are still drawn at autograde time from ``os.urandom`` (never stored in the notebook).
"""

from __future__ import annotations

from typing import Any

from instructor import exercises as answer_key
from tlkit.exercises.registry import get_exercise
from tlkit.exercises.running import run_cases

__all__ = ["hidden_points"]


def hidden_points(exercise_id: str, obj: Any, *, seed: int | None = None,
                  verbose: bool = True) -> float:
    """Points of ``obj`` on the exercise's public and hidden cases (a float in [0, points])."""
    from instructor.grading.grade import new_seed

    exercise = get_exercise(exercise_id)
    if obj is answer_key.reference(exercise_id) or (obj is not None and obj is exercise.fallback_object()):
        if verbose:
            print(f"Hidden tests: Exercise {exercise_id}: the course's reference or tlkit's fallback was given, "
                  f"not your code; 0 points.")
        return 0.0
    seed = new_seed() if seed is None else seed
    cases = [*exercise.public_cases, *answer_key.hidden_cases(exercise_id, seed)]
    result = answer_key.score(exercise_id, cases, run_cases(exercise, obj, cases))
    if verbose:
        print(f"Hidden tests: {result.summary}")
    return float(result.points)
