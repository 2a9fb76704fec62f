"""The notebook's ``check`` and ``solution_or_fallback``.

``check`` runs an exercise's public cases in the notebook's own process, through the same
two halves the grader uses (:func:`~tlkit.exercises.running.run_cases`, then
:func:`~tlkit.exercises.scoring.score_outcomes`), and prints one verdict: PASS, FAIL (a
wrong answer, with a hint for that mistake), ERROR (your code raised) or NOT DONE (the stub).
Everything printed is deterministic: nbval compares it with the stored output.
"""

from __future__ import annotations

from typing import Any

from tlkit.exercises.registry import get_exercise
from tlkit.exercises.running import run_cases
from tlkit.exercises.scoring import NOT_DONE, PASSED, ExerciseResult, score_outcomes

__all__ = ["check", "solution_or_fallback", "run_checks", "verdict_lines"]


def run_checks(exercise_id: str, obj: Any) -> ExerciseResult:
    """The public cases of ``exercise_id`` on ``obj``, silently (no printing)."""
    exercise = get_exercise(exercise_id)
    cases = exercise.public_cases
    if obj is not None and obj is exercise.fallback_object():
        # After `f = solution_or_fallback(...)`, re-running only the check cell would
        # check tlkit's own version: say so rather than report a pass.
        messages = [f"{case.name}: NOT DONE" for case in cases]
        summary = (f"Exercise {exercise.id} ({exercise.title}): NOT DONE: `{exercise.name}` "
                   f"is tlkit's version (the fallback); run the cell with your code again, then "
                   f"this check cell.")
        return ExerciseResult(exercise.id, NOT_DONE, 0.0, float(exercise.points), 0,
                              len(cases), messages, ["not_done"] * len(cases), summary)
    if not callable(obj):
        outcomes = [{"case": case.name, "status": "error",
                     "error": f"TypeError: `{exercise.name}` should be a function or class you "
                              f"define, got a {type(obj).__name__}"} for case in cases]
    else:
        outcomes = run_cases(exercise, obj, cases)
    return score_outcomes(exercise, cases, outcomes, [exercise.public_expected(c) for c in cases])


def verdict_lines(result: ExerciseResult) -> list[str]:
    """What ``check`` prints: the summary, then (unless it passed or is not done) one line per
    case and the hints."""
    lines = [result.summary]
    if result.status not in (PASSED, NOT_DONE):
        lines += [f"  {line}" for line in result.messages]
        lines += [f"Hint: {hint}" for hint in result.hints]
    return lines


def check(exercise_id: str, obj: Any, *, verbose: bool = True) -> ExerciseResult:
    """Check ``obj`` on the public cases and print the verdict (and one line per case when it fails)."""
    result = run_checks(exercise_id, obj)
    if verbose:
        print("\n".join(verdict_lines(result)))
    return result


def solution_or_fallback(exercise_id: str, obj: Any) -> Any:
    """``obj`` when it passes every public case, else tlkit's own version; prints which one is used."""
    exercise = get_exercise(exercise_id)
    result = run_checks(exercise_id, obj)
    if result.status == PASSED:
        print(f"Using your `{exercise.name}` for the rest of this notebook.")
        return obj
    why = ("the exercise is not done yet" if result.status == NOT_DONE
           else "yours does not pass every case yet")
    fallback = exercise.fallback_object()
    if fallback is None:
        print(f"Keeping your `{exercise.name}` ({why}): later cells that use it may fail until it passes.")
        return obj
    print(f"Using tlkit's `{exercise.fallback}` for the rest of this notebook ({why}).")
    return fallback
