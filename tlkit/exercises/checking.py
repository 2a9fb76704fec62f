"""Running an exercise's cases on a student's function and reporting the result.

Everything printed here is deterministic (no timings, no memory addresses), because
nbval compares the printed output of the check cells with the stored one.
"""

from __future__ import annotations

import re
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tlkit.exercises.registry import CheckFailure, Exercise, get_exercise

__all__ = [
    "CheckResult",
    "check",
    "run_checks",
    "solution_or_reference",
    "score",
    "as_array",
    "expect_shape",
    "expect_dtype",
    "expect_close",
    "fmt",
]

PASSED, FAILED, NOT_DONE = "passed", "failed", "not_done"
_MAX_MESSAGE = 300


@dataclass
class CheckResult:
    """The outcome of checking one exercise.

    ``status`` is "passed", "failed" or "not_done" (the untouched stub);
    ``messages`` has one line per case; ``summary`` is what :func:`check` prints.
    """

    exercise_id: str
    passed: bool
    n_passed: int
    n_total: int
    status: str
    messages: list[str] = field(default_factory=list)
    summary: str = ""
    points: float = 0.0
    max_points: float = 0.0


class _StudentRaised(Exception):
    """The student's function raised; carries a deterministic description."""

    def __init__(self, exc: BaseException, description: str) -> None:
        super().__init__(description)
        self.exc = exc
        self.description = description


# --------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------


def check(exercise_id: str, student_fn: Callable, *, verbose: bool = True) -> CheckResult:
    """Run every case of an exercise on ``student_fn`` and print one clear verdict.

    Never raises because of the student's code: errors are caught and reported.
    """
    result = run_checks(exercise_id, student_fn)
    if verbose:
        print(result.summary)
    return result


def solution_or_reference(exercise_id: str, student_fn: Callable) -> Callable:
    """The student's function if it passes every case, else the reference implementation.

    Prints one line saying which one the rest of the notebook uses.
    """
    exercise = get_exercise(exercise_id)
    result = run_checks(exercise_id, student_fn)
    name = exercise.function_name
    if result.passed:
        print(f"Using your `{name}` for the rest of this notebook.")
        return student_fn
    why = "the exercise is not done yet" if result.status == NOT_DONE else (
        "yours does not pass every check yet"
    )
    print(f"Using the reference `{name}` for the rest of this notebook ({why}).")
    return exercise.reference


def score(result: CheckResult) -> float:
    """Points earned: the exercise's points times the fraction of cases passed (2 decimals)."""
    exercise = get_exercise(result.exercise_id)
    if result.status == NOT_DONE or result.n_total == 0:
        return 0.0
    return round(exercise.points * result.n_passed / result.n_total, 2)


def run_checks(exercise_id: str, student_fn: Callable) -> CheckResult:
    """Run the cases silently and return the :class:`CheckResult` (with its summary)."""
    exercise = get_exercise(exercise_id)
    n_total = len(exercise.cases)
    if not callable(student_fn):
        message = (
            f"expected the function `{exercise.function_name}`, "
            f"got {type(student_fn).__name__}"
        )
        return _finish(exercise, 0, [f"✘ {message}"], (None, message, "not_callable"), False)

    if student_fn is exercise.reference:
        # After `f = solution_or_reference(...)`, re-running only the check cell would
        # check the reference: say so rather than report a pass.
        summary = (
            f"⏳ Exercise {exercise.id} is not done yet: `{exercise.function_name}` is the "
            f"reference implementation. Run the cell with your code again, then this cell."
        )
        message = f"✘ `{exercise.function_name}` is the reference implementation"
        return CheckResult(exercise.id, False, 0, n_total, NOT_DONE, [message], summary,
                           0.0, float(exercise.points))

    guarded = _guard(student_fn)
    lines: list[str] = []
    first_failure: tuple[str | None, str, str] | None = None
    n_passed = 0
    all_not_done = True
    for case in exercise.cases:
        kind, message = _run_case(case.run, guarded)
        if kind is None:
            n_passed += 1
            all_not_done = False
            lines.append(f"✔ {case.name}")
            continue
        if kind != NOT_DONE:
            all_not_done = False
        lines.append(f"✘ {case.name}: {message}")
        if first_failure is None:
            first_failure = (case.name, message, kind)
    not_done = n_passed == 0 and all_not_done
    return _finish(exercise, n_passed, lines, first_failure, not_done, n_total)


# --------------------------------------------------------------------------------------
# Helpers for writing cases (used by the exercise modules)
# --------------------------------------------------------------------------------------


def fmt(value: Any) -> str:
    """A short, deterministic, one-line rendering of a value for a failure message."""
    if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)) and value and all(
        isinstance(v, (int, float, np.number)) for v in value
    ):
        arr = np.asarray(value)
        text = np.array2string(
            arr, precision=4, suppress_small=True, threshold=12, edgeitems=2, separator=", "
        )
        return " ".join(text.split())
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return _sanitize(repr(value))


def as_array(value: Any, what: str) -> np.ndarray:
    """``value`` as a numeric ndarray, or a CheckFailure("wrong_type") saying what it was."""
    if value is None:
        raise CheckFailure("no_return", f"{what} is None (did you forget `return`?)")
    try:
        arr = np.asarray(value)
    except Exception:  # ragged lists and other oddities
        raise CheckFailure(
            "wrong_type", f"{what} should be a NumPy array, got {type(value).__name__}"
        ) from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        raise CheckFailure(
            "wrong_type", f"{what} should be a numeric NumPy array, got {type(value).__name__}"
        )
    return arr


def expect_shape(arr: np.ndarray, shape: tuple[int, ...], what: str) -> None:
    if arr.shape != tuple(shape):
        raise CheckFailure(
            "wrong_shape", f"{what} has shape {arr.shape}, expected {tuple(shape)}"
        )


def expect_dtype(arr: np.ndarray, dtype: Any, what: str) -> None:
    if arr.dtype != np.dtype(dtype):
        raise CheckFailure(
            "wrong_dtype", f"{what} has dtype {arr.dtype}, expected {np.dtype(dtype)}"
        )


def expect_close(
    actual: Any,
    expected: np.ndarray,
    what: str,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    kind: str = "wrong_value",
) -> np.ndarray:
    """Check shape, finiteness and values; return ``actual`` as an array."""
    expected = np.asarray(expected)
    arr = as_array(actual, what)
    expect_shape(arr, expected.shape, what)
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise CheckFailure("not_finite", f"{what} contains NaN or inf: {fmt(arr)}")
    if not np.allclose(arr, expected, rtol=rtol, atol=atol):
        diff = np.abs(arr.astype(np.float64) - expected.astype(np.float64))
        raise CheckFailure(
            kind,
            f"{what} is {fmt(arr)}, expected {fmt(expected)} "
            f"(largest difference {float(diff.max()):.3g})",
        )
    return arr


# --------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------


def _guard(student_fn: Callable) -> Callable:
    """Wrap the student's function so its exceptions become _StudentRaised."""
    code = getattr(student_fn, "__code__", None)
    filename = getattr(code, "co_filename", None)
    name = getattr(student_fn, "__name__", "your function")

    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return student_fn(*args, **kwargs)
        except CheckFailure:
            raise
        except (Exception, SystemExit) as exc:  # KeyboardInterrupt still stops the cell
            raise _StudentRaised(exc, _describe(exc, filename, name)) from None

    return guarded


def _describe(exc: BaseException, filename: str | None, name: str) -> str:
    text = str(exc).strip()
    kind = type(exc).__name__
    where = ""
    if filename is not None:
        line = None
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename == filename:
                line = lineno
        if line is not None:
            where = f" (line {line} of the cell defining `{name}`)"
    message = f"{kind}: {text}" if text else kind
    return f"your function raised {_sanitize(message)}{where}"


def _sanitize(text: str) -> str:
    """Remove memory addresses and keep messages one line and short."""
    text = re.sub(r" at 0x[0-9a-fA-F]+", "", text)
    text = re.sub(r"0x[0-9a-fA-F]{6,}", "0x…", text)
    text = " ".join(text.split())
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 1] + "…"
    return text


def _run_case(run: Callable, guarded: Callable) -> tuple[str | None, str]:
    """Run one case: (None, "") when it passes, else (failure kind, message)."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            run(guarded)
    except CheckFailure as failure:
        return failure.kind, _sanitize(failure.message)
    except _StudentRaised as raised:
        if isinstance(raised.exc, NotImplementedError):
            return NOT_DONE, "your function still raises NotImplementedError"
        return "exception", raised.description
    except Exception as exc:  # the checker could not make sense of the answer
        return "wrong_type", _sanitize(
            f"the result could not be checked ({type(exc).__name__}: {exc})"
        )
    return None, ""


def _finish(
    exercise: Exercise,
    n_passed: int,
    lines: list[str],
    first_failure: tuple[str | None, str, str] | None,
    not_done: bool,
    n_total: int | None = None,
) -> CheckResult:
    n_total = len(exercise.cases) if n_total is None else n_total
    eid = exercise.id
    if first_failure is None and n_passed == n_total:
        status = PASSED
        summary = f"✅ Exercise {eid} passed ({n_passed}/{n_total} checks)."
    elif not_done:
        status = NOT_DONE
        summary = (
            f"⏳ Exercise {eid} is not done yet: `{exercise.function_name}` still raises "
            f"NotImplementedError. Replace the stub with your code and run this cell again."
        )
    else:
        status = FAILED
        case_name, message, kind = first_failure or (None, "unknown failure", "default")
        where = f"{case_name}: " if case_name else ""
        summary = (
            f"❌ Exercise {eid}: {n_passed}/{n_total} checks passed. "
            f"First failure: {where}{message.rstrip('.')}. Hint: {exercise.hint(kind)}"
        )
    result = CheckResult(
        exercise_id=eid,
        passed=status == PASSED,
        n_passed=n_passed,
        n_total=n_total,
        status=status,
        messages=lines,
        summary=summary,
        max_points=float(exercise.points),
    )
    result.points = score(result)
    return result
