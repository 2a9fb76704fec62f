"""Check the exercises of a notebook outside Jupyter: the counterpart of the course's ``npm test``.

Usage::

    python -m tlkit.exercises.check_notebook notebooks/01_pretrained_model.ipynb
    python -m tlkit.exercises.check_notebook notebooks/01_pretrained_model.ipynb --exercise 01.2

For every exercise cell of the notebook (first line ``### EXERCISE <id>``) it takes the code
the grader would take (the exercise cell, the helper definitions right above it and the
imports it uses: :mod:`tlkit.exercises.cells`), runs it in a fresh ``python -I``
interpreter (:func:`tlkit.exercises.runner.run_payload`: nothing else of the notebook, no
state of a kernel), and prints the verdict the notebook's check cell prints, on the public
cases. The grader runs the same cases plus hidden ones.

Exit status: 0 when every exercise checked passes, 1 otherwise (a failure, an error, an
exercise not done yet, no exercise found), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tlkit.exercises.cells import Cell, ExerciseCode, extract_exercises
from tlkit.exercises.checking import verdict_lines
from tlkit.exercises.plain import encode
from tlkit.exercises.registry import Exercise, exercise_ids, get_exercise
from tlkit.exercises.scoring import NOT_DONE, PASSED, ExerciseResult, score_outcomes

__all__ = ["read_cells", "check_exercise", "main"]

DEFAULT_TIMEOUT = 300.0
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds tlkit/

# The child: tlkit importable (even from a source checkout), the payload on stdin, the frame
# written to the file named by argv[2]. `python -I` ignores PYTHON* variables and the user's
# site-packages, and does not put the working directory on sys.path.
_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from tlkit.exercises.runner import run_payload
frame = run_payload(json.loads(sys.stdin.read()))
with open(sys.argv[2], "w", encoding="utf-8") as handle:
    json.dump(frame, handle)
"""


def read_cells(path: Path) -> list[Cell | None]:
    """One entry per cell of the notebook: a :class:`Cell` for a code cell, None otherwise.

    ValueError (naming the file) when it is not a notebook."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: cannot be read as a notebook ({exc})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{path}: not a notebook (no list of cells)")
    cells: list[Cell | None] = []
    for index, raw in enumerate(nb["cells"], start=1):
        if not isinstance(raw, dict) or raw.get("cell_type") != "code":
            cells.append(None)
            continue
        source = raw.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        tags = (raw.get("metadata") or {}).get("tags") or []
        cells.append(Cell(Path(path).name, index, source,
                          tuple(t for t in tags if isinstance(t, str))))
    return cells


def _run(exercise: Exercise, code: ExerciseCode, timeout: float) -> tuple[dict | None, str]:
    """(the runner's frame or None, what went wrong when there is none)."""
    payload = {"exercise": exercise.id, "cells": code.payload_cells(),
               "cases": [{"name": case.name, "inputs": encode(case.inputs)}
                         for case in exercise.public_cases]}
    with tempfile.TemporaryDirectory(prefix="tlkit-check-") as folder:
        result = os.path.join(folder, "frame.json")
        work = os.path.join(folder, "work")
        os.mkdir(work)
        try:
            done = subprocess.run([sys.executable, "-I", "-c", _CHILD, _PACKAGE_ROOT, result],
                                  input=json.dumps(payload), cwd=work, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, f"the check took longer than {timeout:g} s and was stopped"
        try:
            with open(result, encoding="utf-8") as handle:
                return json.load(handle), ""
        except (OSError, ValueError):
            tail = " ".join(done.stderr.split()[-40:])
            return None, f"the check process ended without a result (exit code {done.returncode}): {tail}"


def _note_text(note: object, labels: list[str]) -> str:
    """A cell that raised, as the runner notes it ({"cell", "error", "line"}), in words."""
    if not isinstance(note, dict) or not isinstance(note.get("cell"), int) or not (
            0 <= note["cell"] < len(labels)):
        return str(note)
    where = f" on line {note['line']}" if isinstance(note.get("line"), int) else ""
    if note.get("error") == "SyntaxError":
        return f"{labels[note['cell']]}: SyntaxError{where}; the cell did not run"
    return f"{labels[note['cell']]} raised {note.get('error')}{where}"


def check_exercise(exercise: Exercise, code: ExerciseCode, timeout: float = DEFAULT_TIMEOUT
                   ) -> tuple[bool, list[str]]:
    """Run one exercise's public cases on the code taken from the notebook: (passed, lines to print)."""
    frame, problem = _run(exercise, code, timeout)
    head = f"Exercise {exercise.id} ({exercise.title})"
    if frame is None:
        return False, [f"{head}: ERROR: {problem}"]
    labels = [cell["label"] for cell in code.payload_cells()]
    notes = [f"  note: {_note_text(note, labels)}" for note in frame.get("notes", [])]
    if frame.get("status") == "undefined":
        return False, [f"{head}: FAIL: the exercise cell ({code.exercise_cell.label}) does not "
                       f"define `{exercise.name}`", *notes]
    if frame.get("status") != "ran":
        return False, [f"{head}: ERROR: the check could not run ({frame.get('status')})", *notes]
    cases = exercise.public_cases
    result: ExerciseResult = score_outcomes(exercise, cases, frame.get("outcomes"),
                                            [exercise.public_expected(case) for case in cases])
    lines = verdict_lines(result)
    if result.status == NOT_DONE:
        lines = [f"{head}: NOT DONE: write your code in the exercise cell "
                 f"({code.exercise_cell.label}), save the notebook, then run this command again."]
    if result.status != PASSED:
        lines += notes
    return result.status == PASSED, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tlkit.exercises.check_notebook",
        description="Check the exercises of a notebook on their public cases, as its check "
                    "cells do (the grader adds hidden cases).")
    parser.add_argument("notebook", type=Path, help="the .ipynb file to check")
    parser.add_argument("--exercise", metavar="ID", action="append",
                        help="check only this exercise (such as 01.2); may be repeated")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds per exercise (default {DEFAULT_TIMEOUT:g})")
    args = parser.parse_args(argv)
    known = exercise_ids()
    unknown = [i for i in args.exercise or [] if i not in known]
    if unknown:
        parser.error(f"unknown exercise id(s) {unknown}; the course has {known}")
    if not args.timeout > 0:
        parser.error(f"--timeout must be > 0, got {args.timeout:g}")
    try:
        cells = read_cells(args.notebook)
    except ValueError as exc:
        parser.error(str(exc))
    found, flags = extract_exercises(cells, known)
    wanted = args.exercise or [i for i in known if i in found]
    missing = [i for i in wanted if i not in found]
    for flag in flags:
        print(f"note: {flag}")
    if not found or missing:
        what = f"no exercise cell for {missing}" if missing else "no exercise cell"
        print(f"{args.notebook}: {what} (a code cell whose first line is `### EXERCISE <id>`)"
              + (f"; it has {sorted(found)}" if found else ""))
        return 1
    print(f"Checking {args.notebook} on the public cases (the grader adds hidden ones).")
    all_passed = True
    for exercise_id in wanted:
        passed, lines = check_exercise(get_exercise(exercise_id), found[exercise_id], args.timeout)
        all_passed &= passed
        print("\n".join(lines), flush=True)
    return 0 if all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
