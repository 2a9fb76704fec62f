"""Decode the student's outcomes, compare them with the expected answers, score.

Nothing here runs student code. ``score_outcomes`` trusts only the decoded plain data
(exact built-in types and fresh arrays), the expected answers its caller passes (the shipped
public answers in a notebook, the instructor's reference in the grader) and the exercise's
own compare.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tlkit.exercises.plain import PlainDataError, decode
from tlkit.exercises.registry import Case, CheckFailure, Exercise
from tlkit.exercises.running import describe_exception

__all__ = ["ExerciseResult", "score_outcomes", "case_weights", "HIDDEN_SHARE", "PASSED", "FAILED",
           "NOT_DONE", "ERROR"]

PASSED, FAILED, NOT_DONE, ERROR = "passed", "failed", "not_done", "error"
# The hidden cases' share of an exercise's points when both kinds are scored together (the
# grader): an answer that only knows the public cases' answers earns at most the rest.
HIDDEN_SHARE = 0.75
_MAX_MESSAGE = 400


@dataclass
class ExerciseResult:
    """The outcome of one exercise.

    ``status``: "passed" (every case), "not_done" (every case hit the stub), "error"
    (nothing passed, at least one crash and no wrong answer) or "failed".
    ``messages`` has one deterministic line per case, ``kinds`` the failure kind per case
    ("" for a pass), ``summary`` one line for the notebook and the feedback, ``hints`` the
    hint for each distinct kind of failure (in order of first appearance).
    """

    exercise_id: str
    status: str
    points: float
    max_points: float
    n_passed: int
    n_total: int
    messages: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    summary: str = ""
    hints: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == PASSED


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _judge(exercise: Exercise, case: Case, outcome: Any, expected: Any) -> tuple[str, str, str]:
    """(verdict, kind, message) for one case: verdict "pass", "fail", "error" or "not_done"."""
    if type(outcome) is not dict or type(outcome.get("status")) is not str:
        return "fail", "malformed", "the outcome of this case is malformed"
    status = outcome["status"]
    if status == "not_done":
        return "not_done", "not_done", "not done (the code still raises NotImplementedError)"
    if status == "error":
        error = outcome.get("error")
        error = _short(error) if type(error) is str else "an unknown error"
        if outcome.get("kind") == "wrong_type":
            return "fail", "wrong_type", f"the result is not plain data: {error}"
        return "error", "exception", f"your code raised {error}"
    if status != "ok" or type(outcome.get("output")) is not str:
        return "fail", "malformed", "the outcome of this case is malformed"
    try:
        got = decode(outcome["output"])
    except PlainDataError as exc:
        return "fail", "wrong_type", f"the result could not be read: {_short(str(exc))}"
    try:
        exercise.compare(case, expected, got)
    except CheckFailure as failure:
        return "fail", failure.kind, _short(failure.message)
    except Exception as exc:  # a compare that cannot make sense of the answer
        return "fail", "wrong_type", _short(f"the result could not be checked "
                                            f"({describe_exception(exc)})")
    return "pass", "", ""


def case_weights(cases: Sequence[Case]) -> list[float]:
    """Each case's share of the points: the hidden cases share :data:`HIDDEN_SHARE`, the
    public ones the rest; equal shares when all cases are of one kind (a notebook's check)."""
    n_hidden = sum(1 for case in cases if case.hidden)
    n_public = len(cases) - n_hidden
    if n_hidden == 0 or n_public == 0:
        return [1.0 / len(cases)] * len(cases) if cases else []
    return [HIDDEN_SHARE / n_hidden if case.hidden else (1.0 - HIDDEN_SHARE) / n_public
            for case in cases]


def score_outcomes(exercise: Exercise, cases: Sequence[Case], outcomes: Sequence[dict],
                   expected: Sequence[Any]) -> ExerciseResult:
    """Score ``outcomes`` (from :func:`~tlkit.exercises.running.run_cases`) against ``cases``.

    ``expected[i]`` is the decoded expected answer of ``cases[i]``.

    Outcomes must match the cases one to one by name; otherwise every case fails.
    Points: ``exercise.points`` times the summed :func:`case_weights` of the passed cases
    (hidden cases carry :data:`HIDDEN_SHARE` of the points when public ones are scored with
    them; ``passed / total`` otherwise), within [0, points].
    """
    cases = list(cases)
    expected = list(expected)
    if len(expected) != len(cases):
        raise ValueError(f"expected must hold one answer per case: {len(expected)} for {len(cases)} cases")
    names = [case.name for case in cases]
    max_points = float(exercise.points)
    problem = None
    if type(outcomes) not in (list, tuple):
        problem = f"the outcomes are a {type(outcomes).__name__}, not a list"
    else:
        got_names = [o.get("case") if type(o) is dict else None for o in outcomes]
        if len(got_names) != len(names):
            problem = f"{len(got_names)} outcomes for {len(names)} cases"
        elif any(type(name) is not str for name in got_names):
            problem = "an outcome does not name its case"
        elif len(set(got_names)) != len(got_names):
            problem = "a case appears more than once in the outcomes"
        elif sorted(got_names) != sorted(names):
            problem = "the outcomes do not name the cases"
    if problem is not None or not cases:
        problem = problem or "there are no cases"
        return ExerciseResult(
            exercise.id, FAILED, 0.0, max_points, 0, len(cases),
            [f"{name}: FAIL ({problem})" for name in names], ["malformed"] * len(cases),
            f"Exercise {exercise.id} ({exercise.title}): FAIL, 0/{len(cases)} cases "
            f"({problem}).",
        )
    by_name = {o["case"]: o for o in outcomes}
    verdicts, messages, kinds, hints = [], [], [], []
    for case, want in zip(cases, expected, strict=True):
        verdict, kind, message = _judge(exercise, case, by_name[case.name], want)
        verdicts.append(verdict)
        kinds.append(kind)
        label = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "not_done": "NOT DONE"}[verdict]
        line = f"{case.name}: {label}"
        if verdict in ("fail", "error"):
            line += f": {message}"
            if exercise.hint(kind) not in hints:
                hints.append(exercise.hint(kind))
        messages.append(line)
    n_passed = verdicts.count("pass")
    n_total = len(cases)
    if n_passed == n_total:
        status = PASSED
    elif verdicts.count("not_done") == n_total:
        status = NOT_DONE
    elif n_passed == 0 and "fail" not in verdicts:
        status = ERROR
    else:
        status = FAILED
    weights = case_weights(cases)
    share = sum(w for w, verdict in zip(weights, verdicts, strict=True) if verdict == "pass")
    points = max_points if n_passed == n_total else max_points * share
    points = min(max(points, 0.0), max_points) if math.isfinite(points) else 0.0
    summary = _summary(exercise, status, n_passed, n_total, verdicts.count("not_done"))
    hidden = [verdict for case, verdict in zip(cases, verdicts, strict=True) if case.hidden]
    if hidden and len(hidden) < n_total and status != PASSED:
        summary += (f" (public {n_passed - hidden.count('pass')}/{n_total - len(hidden)}, "
                    f"hidden {hidden.count('pass')}/{len(hidden)}; the hidden cases carry "
                    f"{HIDDEN_SHARE:.0%} of the points)")
    return ExerciseResult(exercise.id, status, points, max_points, n_passed, n_total,
                          messages, kinds, summary, hints)


def _summary(exercise: Exercise, status: str, n_passed: int, n_total: int,
             n_not_done: int = 0) -> str:
    head = f"Exercise {exercise.id} ({exercise.title})"
    if status == PASSED:
        return f"{head}: PASS, {n_passed}/{n_total} cases"
    if status == NOT_DONE:
        return (f"{head}: NOT DONE: write your code in the exercise cell, run that cell, "
                f"then run this check cell again.")
    if status == ERROR:
        return f"{head}: ERROR, {n_passed}/{n_total} cases (your code raised an exception)"
    if n_not_done:
        return f"{head}: FAIL, {n_passed}/{n_total} cases ({n_not_done} not done yet)"
    return f"{head}: FAIL, {n_passed}/{n_total} cases"
