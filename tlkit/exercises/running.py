"""The student side: apply the student's function or class to each case, keep plain data.

``run_cases`` is what the grader's child process and the notebook's ``check`` call. It
returns one dict per case and nothing else: the instructor's side
(:mod:`tlkit.exercises.scoring`) decodes and compares, in a process that never ran
student code.
"""

from __future__ import annotations

import os
import re
import traceback
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from tlkit.exercises.plain import PlainDataError, encode
from tlkit.exercises.registry import Case, Exercise

__all__ = ["run_cases", "describe_exception", "MAX_ERROR_CHARS"]

MAX_ERROR_CHARS = 300


def describe_exception(exc: BaseException) -> str:
    """``"TypeError: ..."`` on one line, without memory addresses, at most 300 characters."""
    text = " ".join(str(exc).split())
    text = re.sub(r" at 0x[0-9a-fA-F]+", "", text)
    text = re.sub(r"0x[0-9a-fA-F]{6,}", "0x...", text)
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    line = _student_line(exc)
    if line is not None:
        message += f" (line {line} of your cell)"
    if len(message) > MAX_ERROR_CHARS:
        message = message[: MAX_ERROR_CHARS - 3] + "..."
    return message


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_STDLIB_DIR = os.path.dirname(os.__file__)


def _student_line(exc: BaseException) -> int | None:
    """The line of the last traceback frame in a notebook cell (not tlkit, not a library)."""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.startswith((_PACKAGE_DIR, _STDLIB_DIR)) or "site-packages" in filename or (
                filename.startswith("<frozen")):
            continue
        line = lineno
    return line


def _run_one(exercise: Exercise, obj: Any, case: Case) -> dict[str, str]:
    inputs = case.fresh_inputs()  # a deep copy: a mutating student cannot change the next case
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            output = exercise.apply(obj, inputs)
    except NotImplementedError:
        return {"case": case.name, "status": "not_done"}
    except (Exception, SystemExit) as exc:  # KeyboardInterrupt still stops the cell
        return {"case": case.name, "status": "error", "error": describe_exception(exc)}
    try:
        text = encode(output)
    except PlainDataError as exc:
        return {"case": case.name, "status": "error", "kind": "wrong_type",
                "error": describe_exception(exc)}
    except RecursionError:
        return {"case": case.name, "status": "error", "kind": "wrong_type",
                "error": "PlainDataError: the output is nested too deeply (a cycle?)"}
    return {"case": case.name, "status": "ok", "output": text}


def run_cases(exercise: Exercise, obj: Any, cases: Sequence[Case]) -> list[dict[str, str]]:
    """Apply ``obj`` (the student's function or class) to every case; one dict per case.

    ``{"case", "status": "ok", "output": JSON text}``, ``{"case", "status": "not_done"}``
    (the stub raised NotImplementedError) or ``{"case", "status": "error", "error": text}``
    (plus ``"kind": "wrong_type"`` when the output is not plain data).
    """
    return [_run_one(exercise, obj, case) for case in cases]
