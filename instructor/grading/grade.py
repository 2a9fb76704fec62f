"""Grade a class: one sandboxed child per (student, exercise), scored in this process.

The instructor's process (this one) never runs student code. It draws the hidden cases
from the run's seed (``os.urandom`` unless ``--seed`` replays a recorded one; the seed is
recorded in the output, the children only ever receive case inputs), sends each child its
cells and the cases' names and inputs, reads back at most one result frame as untrusted
input (:mod:`instructor.grading.frames`: bounded, strictly typed, one outcome per case
sent) and compares the decoded outputs with :func:`instructor.exercises.expected` (the
reference's answers, computed here) through
:func:`tlkit.exercises.scoring.score_outcomes` (strict types, hidden cases weighted, points
within [0, points]).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from instructor import exercises as answer_key
from instructor.grading import frames, sandbox
from instructor.grading.submissions import (
    ExerciseCode,
    Submission,
    extract_exercises,
    find_submissions,
    library_use,
    parse_notebook,
    reference_match,
)
from tlkit.exercises.plain import encode
from tlkit.exercises.registry import Case, Exercise, exercise_ids, get_exercise

__all__ = ["ExerciseGrade", "StudentRow", "ClassRun", "collect", "grade_class", "new_seed",
           "MAX_SEED"]

_TAIL = 160
MAX_SEED = 2**63 - 1


@dataclass
class ExerciseGrade:
    """One student's result on one exercise.

    ``status``: "passed", "failed", "not_done", "error" (the code raised), "missing"
    (no cell), "undefined" (the cell defines nothing of that name), "timeout",
    "crashed" (the process died without a result) or "rejected" (the result channel
    held something other than one valid frame).
    """

    exercise_id: str
    points: float
    max_points: float
    status: str
    summary: str
    messages: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    source: str = ""
    seconds: float = 0.0
    peak_memory: int | None = None  # the sandbox's peak (cgroup), bytes


@dataclass
class StudentRow:
    student: str
    grades: dict[str, ExerciseGrade] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(g.points for g in self.grades.values())

    @property
    def max_total(self) -> float:
        return sum(g.max_points for g in self.grades.values())


@dataclass
class ClassRun:
    rows: list[StudentRow]
    exercises: list[str]
    mode: str
    seconds: float
    tasks: int
    seed: int | None = None  # the hidden cases' seed: `--seed` with it replays the run


def new_seed() -> int:
    """A fresh seed for the hidden cases, from the OS (the grader records it in its output)."""
    return int.from_bytes(os.urandom(8), "little") >> 1


# --------------------------------------------------------------------------------------
# Reading the class (no student code runs)
# --------------------------------------------------------------------------------------


def collect(root: Path | str, exercises: list[str], roster: list[str] | None = None
            ) -> list[Submission]:
    """One Submission per student found or on the roster, in roster then name order."""
    problems: dict[str, list[str]] = {}
    found = find_submissions(root, problems)
    students = list(roster or [])
    students += [s for s in sorted(found) if s not in students]
    course = exercise_ids()
    out = []
    for student in students:
        sub = Submission(student, files=found.get(student, []))
        if roster is not None and student not in roster:
            sub.flags.append("not on the roster")
        if not sub.files:
            sub.errors.append("no submission")
        sub.errors.extend(problems.get(student, []))
        for path in sub.files:
            _read_into(sub, path, course, exercises)
        out.append(sub)
    return out


def _read_into(sub: Submission, path: Path, course: list[str], exercises: list[str]) -> None:
    name = path.name
    if path.suffix.lower() != ".ipynb":
        kind = f"a {path.suffix} file" if path.suffix else "a file without extension"
        sub.errors.append(f"{name}: not a notebook ({kind}); hand in the .ipynb file")
        return
    if path.suffix != ".ipynb":
        sub.flags.append(f"{name}: extension {path.suffix!r} (read as .ipynb)")
    try:
        cells, problems = parse_notebook(path)
    except (OSError, ValueError) as exc:
        sub.errors.append(f"{name}: cannot be read: {exc}")
        return
    sub.errors.extend(problems)
    found, flags = extract_exercises(cells, course)
    sub.flags.extend(flags)
    for exercise_id, code in found.items():
        if exercise_id not in exercises:
            continue
        if exercise_id in sub.exercises:
            sub.flags.append(f"exercise {exercise_id} appears in several notebooks; "
                             f"{code.exercise_cell.label} is graded")
        sub.exercises[exercise_id] = code


# --------------------------------------------------------------------------------------
# Grading one exercise of one student
# --------------------------------------------------------------------------------------


def _child_command(limits: sandbox.Limits) -> list[str]:
    return [sys.executable, "-I", "-m", "tlkit.exercises.runner", sandbox.FD_TOKEN,
            *limits.child_args()]


def grade_one(exercise: Exercise, cases: list[Case], encoded_inputs: list[str],
              code: ExerciseCode, limits: sandbox.Limits, mode: str) -> ExerciseGrade:
    """Run one student's code for one exercise in a sandbox and score what comes back."""
    cells = code.payload_cells()
    payload = json.dumps({
        "exercise": exercise.id,
        "cells": [{"role": c["role"], "source": c["source"]} for c in cells],
        "cases": [{"name": c.name, "inputs": text}
                  for c, text in zip(cases, encoded_inputs, strict=True)],
    }).encode("utf-8")
    outcome = sandbox.run(_child_command(limits), payload, limits, mode)
    grade = _score(exercise, cases, outcome, limits, [c["label"] for c in cells])
    grade.source = code.exercise_cell.label
    grade.seconds = outcome.seconds
    grade.peak_memory = outcome.peak_memory
    reasons = library_use(code, exercise.name, tuple(exercise.library_names))
    if reasons:
        grade.flags.append(f"{exercise.id}: possible library answer ({'; '.join(reasons)})")
    grade.flags.extend(reference_match(code))
    return grade


def _zero(exercise: Exercise, status: str, summary: str, **kw) -> ExerciseGrade:
    return ExerciseGrade(exercise.id, 0.0, float(exercise.points), status, summary, **kw)


def _printed(data: bytes) -> list[str]:
    """The end of what the code printed, quoted (the student's words, never the grader's)."""
    text = " ".join(data.decode("utf-8", "replace")[-4 * _TAIL:].split())
    return [f"the code's last output: {frames.quote(text[-_TAIL:])}"] if text else []


def _score(exercise: Exercise, cases: list[Case], outcome: sandbox.Outcome,
           limits: sandbox.Limits, labels: list[str]) -> ExerciseGrade:
    head = f"Exercise {exercise.id} ({exercise.title})"
    notes = []
    if "stdout" in outcome.truncated or "stderr" in outcome.truncated:
        notes.append(f"the code printed more than {limits.output_bytes} bytes; the rest was "
                     f"discarded")
    if outcome.timed_out:
        return _zero(exercise, "timeout", f"{head}: TIMEOUT, stopped after {limits.timeout:g} s (an "
                     f"infinite loop, or far too slow); 0 points.", notes=notes)
    if "result" in outcome.truncated:
        return _zero(exercise, "rejected", f"{head}: REJECTED, the result was larger than "
                     f"{limits.result_bytes} bytes; 0 points.", notes=notes,
                     flags=[f"{exercise.id}: oversized result"])
    if not outcome.result:
        why = _death(outcome, limits)
        return _zero(exercise, "crashed", f"{head}: CRASHED, the process stopped without a result "
                     f"({why}); 0 points.", notes=notes + _printed(outcome.stderr))
    try:
        frame = frames.read_frame(outcome.result, exercise_id=exercise.id,
                                  case_names=[c.name for c in cases], n_cells=len(labels))
    except frames.Rejected as exc:
        return _zero(exercise, "rejected", f"{head}: REJECTED, the result channel held something "
                     f"else than one valid result ({exc.reason}); 0 points.", notes=notes,
                     flags=[f"{exercise.id}: malformed result channel ({exc.reason})"])
    notes += [note.text(labels) for note in frame.notes]
    if frame.status == "undefined":
        return _zero(exercise, "undefined", f"{head}: the exercise cell does not define "
                     f"`{exercise.name}`; 0 points.", notes=notes)
    if frame.status != "ran":
        return _zero(exercise, "crashed", f"{head}: CRASHED, the grading process failed before "
                     f"it had a result; 0 points.", notes=notes + _printed(outcome.stderr))
    try:
        result = answer_key.score(exercise.id, cases, frame.outcomes)
    except Exception as exc:  # noqa: BLE001 - an outcome the scorer cannot read costs the exercise
        return _zero(exercise, "rejected", f"{head}: REJECTED, the result could not be scored "
                     f"({type(exc).__name__}); 0 points.", notes=notes,
                     flags=[f"{exercise.id}: unscorable result"])
    points = result.points if math.isfinite(result.points) else 0.0
    points = min(max(points, 0.0), float(exercise.points))
    return ExerciseGrade(exercise.id, points, float(exercise.points), result.status,
                         result.summary, messages=list(result.messages), hints=list(result.hints),
                         notes=notes)


def _death(outcome: sandbox.Outcome, limits: sandbox.Limits) -> str:
    code = outcome.returncode
    err = outcome.stderr.decode("utf-8", "replace")
    if outcome.oom_killed:
        return (f"out of memory: the sandbox's limit is {limits.memory_bytes >> 20} MiB for all "
                f"its processes and in-memory files")
    if "MemoryError" in err or "Cannot allocate memory" in err:
        return f"out of memory: the limit is {limits.memory_bytes >> 20} MiB"
    if code is not None and code < 0:
        return f"killed by signal {-code}"
    if code in (128 + 9, 137):
        return "killed (signal 9)"
    if code in (128 + 24, 152):
        return f"CPU time limit of {limits.cpu_seconds} s"
    return f"exit code {code}"


# --------------------------------------------------------------------------------------
# The class
# --------------------------------------------------------------------------------------


def hidden_cases(exercise_id: str, seed: int) -> list[Case]:
    """The run's hidden cases of an exercise, marked hidden whatever their generator says
    (the scoring weights them)."""
    return [case if case.hidden else dataclasses.replace(case, hidden=True)
            for case in answer_key.hidden_cases(exercise_id, seed)]


def grade_class(submissions: list[Submission], exercises: list[str], *, limits: sandbox.Limits,
                jobs: int = 1, seed: int | None = None, mode: str | None = None,
                progress: Callable[[int, int], None] | None = None) -> ClassRun:
    """Grade every submission on ``exercises``; one row per submission, in order.

    ``seed`` draws the hidden cases (a fresh one when None); the run records it
    (``ClassRun.seed``), and the same seed draws the same cases again.
    """
    start = time.monotonic()
    mode = mode or sandbox.isolation()
    seed = new_seed() if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an int in [0, 2**63 - 1], got {seed!r}")
    plans = {}
    for exercise_id in exercises:
        exercise = get_exercise(exercise_id)
        cases = [*exercise.public_cases, *hidden_cases(exercise_id, seed)]
        plans[exercise_id] = (exercise, cases, [encode(c.inputs) for c in cases])
    rows = [StudentRow(s.student, flags=list(s.flags), errors=list(s.errors)) for s in submissions]
    tasks = []
    for row, sub in zip(rows, submissions, strict=True):
        for exercise_id in exercises:
            exercise = plans[exercise_id][0]
            if exercise_id in sub.exercises:
                tasks.append((row, exercise_id, sub.exercises[exercise_id]))
            else:
                row.grades[exercise_id] = _zero(
                    exercise, "missing", f"Exercise {exercise_id} ({exercise.title}): no cell "
                    f"whose first line is `### EXERCISE {exercise_id}`; 0 points.")
    done = 0
    if progress:
        progress(0, len(tasks))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(grade_one, *plans[eid], code, limits, mode): (row, eid)
                   for row, eid, code in tasks}
        for future in as_completed(futures):
            row, exercise_id = futures[future]
            try:
                grade = future.result()
            except Exception as exc:  # noqa: BLE001 - one task's failure never stops the class
                grade = _zero(plans[exercise_id][0], "crashed",
                              f"Exercise {exercise_id}: the grader failed on this submission "
                              f"({type(exc).__name__}: {str(exc)[:200]}); 0 points.")
            row.grades[exercise_id] = grade
            done += 1
            if progress:
                progress(done, len(tasks))
    for row in rows:
        row.grades = {eid: row.grades[eid] for eid in exercises}
        for exercise_id, grade in row.grades.items():
            row.flags.extend(grade.flags)
            if grade.status in ("timeout", "crashed"):
                row.errors.append(f"{exercise_id}: {grade.status}")
    return ClassRun(rows, list(exercises), mode, time.monotonic() - start, len(tasks), seed)
