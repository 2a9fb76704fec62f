"""Grade a whole class of filled-in student notebooks with one command.

Usage::

    python -m tlkit.grading SUBMISSIONS_DIR [--out FILE.csv] [--timeout 30]
                            [--feedback-dir DIR] [--exercises 02.1,03.1] [--jobs N]

Submissions: every ``SUBMISSIONS_DIR/<student>.ipynb`` (the student id is the file stem)
and every notebook anywhere under ``SUBMISSIONS_DIR/<student>/`` (the student id is the
folder name; one student may hand in several notebooks).

What a notebook must look like (the course notebooks do this):

* every exercise cell has a comment line ``### EXERCISE <id>`` (such as
  ``### EXERCISE 02.1``), conventionally its first line, and defines the exercise's
  function (``get_exercise(id).function_name``); it should not depend on other cells;
* the cell(s) with the imports carry the cell tag ``imports``.

For each exercise found, a fresh Python process (``sys.executable``) runs the ``imports``
cells, then the exercise cell alone (IPython magics such as ``%matplotlib`` are skipped,
``np`` is predefined, the cell's printed output is discarded), and runs the registry's
cases on the function. A process that exceeds ``--timeout`` seconds is killed: an infinite
loop or a crash costs that exercise, never the rest of the class. An error in the exercise
cell *after* the function is defined (a demo call using a variable from another cell) is
noted in the feedback but does not stop the grading.

Outputs: a CSV (student, one column of points per exercise, total, error), one feedback
text file per student, and a class summary on stdout. Only the standard library and the
exercise registry (NumPy) are used.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import signal
import statistics
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tlkit.exercises.registry import exercise_ids, get_exercise

__all__ = [
    "EXERCISE_MARKER",
    "IMPORTS_TAG",
    "ExerciseGrade",
    "StudentGrade",
    "find_submissions",
    "exercise_cells",
    "grade_exercise",
    "grade_class",
    "write_csv",
    "write_feedback",
    "class_summary",
    "main",
]

EXERCISE_MARKER = "### EXERCISE"
IMPORTS_TAG = "imports"
_MARKER_RE = re.compile(r"^[ \t]*###[ \t]*EXERCISE[ \t]+(\S+)[ \t]*$", re.MULTILINE)
_RESULT_PREFIX = "@@TLKIT-GRADING-RESULT@@ "
_TAIL = 400  # characters of a crashed process's stderr kept in the feedback


@dataclass
class ExerciseGrade:
    """One student's result on one exercise.

    ``status``: "passed", "failed", "not_done" (untouched stub), "missing" (no cell for
    it), "timeout" or "error" (the cell or the process failed before the checks ran).
    """

    exercise_id: str
    points: float
    max_points: float
    status: str
    summary: str
    messages: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source: str = ""  # "<notebook>, cell <n>"


@dataclass
class StudentGrade:
    student: str
    grades: dict[str, ExerciseGrade] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(g.points for g in self.grades.values()), 2)


@dataclass
class _Cell:
    label: str  # "<notebook name>, cell <n>"
    source: str


@dataclass
class _Notebook:
    path: Path
    imports: list[_Cell]
    exercises: dict[str, _Cell]
    notes: list[str]


# --------------------------------------------------------------------------------------
# Finding submissions and exercise cells
# --------------------------------------------------------------------------------------


def find_submissions(root: Path | str) -> dict[str, list[Path]]:
    """Student id -> their notebooks, sorted (see the module docstring for the layout)."""
    root = Path(root)
    found: dict[str, list[Path]] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == ".ipynb":
            found.setdefault(entry.stem, []).append(entry)
        elif entry.is_dir():
            notebooks = [
                p for p in sorted(entry.rglob("*.ipynb"))
                if not any(part.startswith(".") for part in p.relative_to(entry).parts)
            ]
            found.setdefault(entry.name, []).extend(notebooks)
    return {student: sorted(paths) for student, paths in sorted(found.items())}


def exercise_cells(nb: dict[str, Any], name: str) -> tuple[list[_Cell], dict[str, _Cell],
                                                           list[str]]:
    """(imports cells, exercise id -> its cell, notes) of a parsed notebook."""
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise ValueError("not a notebook: it has no list of cells")
    known = set(exercise_ids())
    imports: list[_Cell] = []
    exercises: dict[str, _Cell] = {}
    notes: list[str] = []
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        label = f"{name}, cell {index}"
        tags = (cell.get("metadata") or {}).get("tags") or []
        if IMPORTS_TAG in tags:
            imports.append(_Cell(label, source))
        for exercise_id in _MARKER_RE.findall(source):
            if exercise_id not in known:
                notes.append(f"{label}: unknown exercise id {exercise_id!r}, ignored")
                continue
            if exercise_id in exercises:
                notes.append(
                    f"exercise {exercise_id} appears in {exercises[exercise_id].label} and "
                    f"{label}; the last one is graded"
                )
            exercises[exercise_id] = _Cell(label, source)
    return imports, exercises, notes


def _read_notebook(path: Path) -> _Notebook:
    nb = json.loads(path.read_text(encoding="utf-8"))
    imports, exercises, notes = exercise_cells(nb, path.name)
    return _Notebook(path, imports, exercises, notes)


# --------------------------------------------------------------------------------------
# Grading one exercise in a fresh process
# --------------------------------------------------------------------------------------


def grade_exercise(exercise_id: str, exercise_cell: _Cell, imports: Iterable[_Cell] = (),
                   *, timeout: float = 30.0, cwd: Path | str | None = None) -> ExerciseGrade:
    """Run the imports cells and one exercise cell in a fresh process and check it."""
    exercise = get_exercise(exercise_id)
    payload = json.dumps({
        "exercise_id": exercise_id,
        "function_name": exercise.function_name,
        "imports": [[c.label, c.source] for c in imports],
        "cell": [exercise_cell.label, exercise_cell.source],
    })
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_root, env.get("PYTHONPATH", "")) if p
    )
    env["MPLBACKEND"] = "Agg"  # only in the grading process: no windows pop up
    env["PYTHONIOENCODING"] = "utf-8"
    command = [sys.executable, "-c", "from tlkit.grading.grader import _child_main; _child_main()"]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=cwd, env=env, start_new_session=(os.name == "posix"),
    )

    def grade(status: str, summary: str, notes: list[str] | None = None) -> ExerciseGrade:
        return ExerciseGrade(exercise_id, 0.0, float(exercise.points), status, summary,
                             notes=notes or [], source=exercise_cell.label)

    try:
        stdout, stderr = process.communicate(payload.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        process.communicate()
        return grade("timeout", f"⌛ Exercise {exercise_id}: stopped after {timeout:g} s "
                                f"(an infinite loop, or far too slow); 0 points.")
    lines = stdout.decode("utf-8", "replace").splitlines()
    results = [line[len(_RESULT_PREFIX):] for line in lines if line.startswith(_RESULT_PREFIX)]
    if not results:
        tail = stderr.decode("utf-8", "replace").strip()[-_TAIL:]
        notes = [f"last output of the process: {tail}"] if tail else []
        return grade("error", f"💥 Exercise {exercise_id}: the grading process stopped "
                              f"without a result (exit code {process.returncode}).", notes)
    data = json.loads(results[-1])
    if "result" not in data:
        return grade("error", data["error"], data.get("notes", []))
    result = data["result"]
    return ExerciseGrade(
        exercise_id=exercise_id,
        points=float(result["points"]),
        max_points=float(result["max_points"]),
        status=result["status"],
        summary=result["summary"],
        messages=list(result["messages"]),
        notes=data.get("notes", []),
        source=exercise_cell.label,
    )


def _kill(process: subprocess.Popen) -> None:
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except (ProcessLookupError, PermissionError):
        process.kill()


def _strip_magics(source: str) -> str:
    """Replace IPython magics and shell escapes (``%...``, ``!...``) with ``pass``."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        return "pass  # cell magic skipped by the grader\n"
    out = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}pass  # IPython magic skipped by the grader")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def _child_main() -> None:  # pragma: no cover - runs in the grading subprocess
    """Entry point of the grading subprocess: payload on stdin, one result line on stdout."""
    import traceback
    from dataclasses import asdict

    import numpy as np

    from tlkit.exercises.checking import run_checks

    payload = json.loads(sys.stdin.read())
    result_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # whatever the student's code prints is discarded
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    exercise_id = payload["exercise_id"]
    name = payload["function_name"]
    notes: list[str] = []

    def emit(obj: dict) -> None:
        result_out.write(_RESULT_PREFIX + json.dumps(obj, ensure_ascii=False) + "\n")
        result_out.flush()

    def describe(exc: BaseException, label: str) -> str:
        line = None
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename == label:
                line = lineno
        where = f" on line {line}" if line is not None else ""
        text = " ".join(str(exc).split())[:300]
        return f"{type(exc).__name__}{': ' + text if text else ''}{where}"

    namespace: dict[str, Any] = {"__name__": "__main__", "np": np,
                                 "display": lambda *args, **kwargs: None}
    for label, source in payload["imports"]:
        try:
            exec(compile(_strip_magics(source), label, "exec"), namespace)
        except (Exception, SystemExit) as exc:
            emit({"error": f"💥 Exercise {exercise_id}: the imports cell ({label}) failed: "
                           f"{describe(exc, label)}; 0 points.", "notes": notes})
            return
    label, source = payload["cell"]
    try:
        exec(compile(_strip_magics(source), label, "exec"), namespace)
    except (Exception, SystemExit) as exc:
        notes.append(f"the exercise cell ({label}) raised {describe(exc, label)}")
    fn = namespace.get(name)
    if not callable(fn):
        why = "does not define" if fn is None else "does not define a function named"
        emit({"error": f"💥 Exercise {exercise_id}: the exercise cell ({label}) {why} "
                       f"`{name}`; 0 points.", "notes": notes})
        return
    if str(getattr(fn, "__module__", "")).startswith("tlkit"):
        emit({"error": f"💥 Exercise {exercise_id}: `{name}` is imported from tlkit, not "
                       f"written in the notebook; 0 points.", "notes": notes})
        return
    result = run_checks(exercise_id, fn)
    emit({"result": asdict(result), "notes": notes})


# --------------------------------------------------------------------------------------
# Grading a class
# --------------------------------------------------------------------------------------


def grade_class(submissions_dir: Path | str, *, timeout: float = 30.0,
                exercises: list[str] | None = None, jobs: int | None = None
                ) -> tuple[list[StudentGrade], list[str]]:
    """Grade every submission; returns (one StudentGrade per student, exercise columns)."""
    submissions = find_submissions(submissions_dir)
    students: dict[str, StudentGrade] = {}
    found: dict[str, dict[str, tuple[_Cell, list[_Cell], Path]]] = {}
    for student, paths in submissions.items():
        grade = students[student] = StudentGrade(student)
        found[student] = {}
        if not paths:
            grade.errors.append("no notebook found")
        for path in paths:
            try:
                notebook = _read_notebook(path)
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                message = " ".join(str(exc).split())[:200]
                grade.errors.append(f"malformed notebook {path.name}: {message}")
                continue
            grade.errors.extend(notebook.notes)
            for exercise_id, cell in notebook.exercises.items():
                if exercise_id in found[student]:
                    grade.errors.append(
                        f"exercise {exercise_id} appears in several notebooks; "
                        f"{cell.label} is graded"
                    )
                found[student][exercise_id] = (cell, notebook.imports, path.parent)

    if exercises is None:
        seen = {eid for cells in found.values() for eid in cells}
        exercises = [eid for eid in exercise_ids() if eid in seen] or exercise_ids()
    for exercise_id in exercises:
        get_exercise(exercise_id)  # ValueError for an unknown id

    tasks = [
        (student, exercise_id, *found[student][exercise_id])
        for student in students for exercise_id in exercises
        if exercise_id in found[student]
    ]

    def run(task: tuple) -> tuple[str, ExerciseGrade]:
        student, exercise_id, cell, imports, folder = task
        return student, grade_exercise(exercise_id, cell, imports, timeout=timeout, cwd=folder)

    workers = max(1, jobs or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for student, exercise_grade in pool.map(run, tasks):
            students[student].grades[exercise_grade.exercise_id] = exercise_grade

    for grade in students.values():
        for exercise_id in exercises:
            if exercise_id not in grade.grades:
                exercise = get_exercise(exercise_id)
                grade.grades[exercise_id] = ExerciseGrade(
                    exercise_id, 0.0, float(exercise.points), "missing",
                    f"➖ Exercise {exercise_id}: no cell marked `{EXERCISE_MARKER} "
                    f"{exercise_id}` was found; 0 points.",
                )
        grade.grades = {eid: grade.grades[eid] for eid in exercises}
    return list(students.values()), list(exercises)


def _fmt_points(points: float) -> str:
    return f"{round(points, 2):g}"


def write_csv(grades: list[StudentGrade], exercises: list[str], path: Path | str) -> None:
    """student, one column of points per exercise, total, error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *exercises, "total", "error"])
        for grade in grades:
            writer.writerow([
                grade.student,
                *(_fmt_points(grade.grades[eid].points) for eid in exercises),
                _fmt_points(grade.total),
                "; ".join(grade.errors),
            ])


def write_feedback(grade: StudentGrade, folder: Path | str) -> Path:
    """Write ``<folder>/<student>.txt``: every exercise's verdict, its cases and notes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    max_total = sum(g.max_points for g in grade.grades.values())
    title = f"Feedback for {grade.student}"
    lines = [title, "=" * len(title), ""]
    for exercise_id, result in grade.grades.items():
        exercise = get_exercise(exercise_id)
        lines.append(f"Exercise {exercise_id}, {exercise.title}: "
                     f"{_fmt_points(result.points)} / {_fmt_points(result.max_points)} points"
                     + (f"  ({result.source})" if result.source else ""))
        lines.append(f"  {result.summary}")
        lines.extend(f"    {message}" for message in result.messages)
        lines.extend(f"  Note: {note}" for note in result.notes)
        lines.append("")
    lines.append(f"Total: {_fmt_points(grade.total)} / {_fmt_points(max_total)} points")
    if grade.errors:
        lines.append("")
        lines.append("Problems with the submission:")
        lines.extend(f"  - {error}" for error in grade.errors)
    path = folder / f"{_safe_name(grade.student)}.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _safe_name(student: str) -> str:
    return re.sub(r"[^\w.@+-]", "_", student) or "_"


def class_summary(grades: list[StudentGrade], exercises: list[str]) -> str:
    """A short text summary of the class, one line per exercise."""
    n = len(grades)
    max_total = sum(get_exercise(eid).points for eid in exercises)
    lines = [f"Graded {n} student(s) on {len(exercises)} exercise(s) "
             f"({', '.join(exercises)}), {_fmt_points(max_total)} points in all."]
    header = (f"{'exercise':<10}{'mean':>8}{'passed':>8}{'failed':>8}{'not done':>10}"
              f"{'missing':>9}{'timeout':>9}{'error':>7}")
    lines.append(header)
    for eid in exercises:
        results = [g.grades[eid] for g in grades]
        mean = statistics.fmean(r.points for r in results) if results else 0.0
        counts = {s: sum(r.status == s for r in results)
                  for s in ("passed", "failed", "not_done", "missing", "timeout", "error")}
        lines.append(
            f"{eid:<10}{mean:>8.2f}{counts['passed']:>8}{counts['failed']:>8}"
            f"{counts['not_done']:>10}{counts['missing']:>9}{counts['timeout']:>9}"
            f"{counts['error']:>7}"
        )
    totals = [g.total for g in grades]
    if totals:
        lines.append(
            f"total: mean {statistics.fmean(totals):.2f}, median "
            f"{_fmt_points(statistics.median(totals))}, min {_fmt_points(min(totals))}, "
            f"max {_fmt_points(max(totals))} (of {_fmt_points(max_total)})"
        )
    with_errors = [g for g in grades if g.errors]
    if with_errors:
        lines.append(f"{len(with_errors)} submission(s) with problems (see the error column):")
        lines.extend(f"  {g.student}: {'; '.join(g.errors)}" for g in with_errors)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tlkit.grading",
        description="Grade the exercises of filled-in student notebooks.",
    )
    parser.add_argument("submissions", metavar="SUBMISSIONS_DIR",
                        help="folder with <student>.ipynb files or <student>/ folders")
    parser.add_argument("--out", default=None,
                        help="CSV to write (default: <SUBMISSIONS_DIR>-grades.csv beside the folder)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds allowed per exercise and student (30)")
    parser.add_argument("--feedback-dir", default=None,
                        help="folder for <student>.txt feedback (default: feedback/ beside --out, "
                        "or <SUBMISSIONS_DIR>-feedback/)")
    parser.add_argument("--exercises", default=None,
                        help="comma-separated ids to grade (default: those found)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="processes in parallel (default: the number of cores)")
    args = parser.parse_args(argv)
    root = Path(args.submissions)
    if not root.is_dir():
        parser.error(f"SUBMISSIONS_DIR {str(root)!r} is not a folder")
    if args.timeout <= 0:
        parser.error(f"--timeout must be > 0, got {args.timeout}")
    wanted = None
    if args.exercises:
        wanted = [e.strip() for e in args.exercises.split(",") if e.strip()]
        for exercise_id in wanted:
            if exercise_id not in exercise_ids():
                parser.error(f"--exercises: unknown id {exercise_id!r}; valid ids: "
                             f"{', '.join(exercise_ids())}")
    grades, exercises = grade_class(root, timeout=args.timeout, exercises=wanted,
                                    jobs=args.jobs)
    # Defaults sit beside the submissions folder, never in the current directory.
    stem = root.resolve()
    out = Path(args.out) if args.out else stem.parent / f"{stem.name}-grades.csv"
    if args.feedback_dir:
        feedback_dir = Path(args.feedback_dir)
    else:
        feedback_dir = out.parent / "feedback" if args.out else stem.parent / f"{stem.name}-feedback"
    write_csv(grades, exercises, out)
    for grade in grades:
        write_feedback(grade, feedback_dir)
    print(class_summary(grades, exercises))
    print(f"Wrote {out} and {len(grades)} feedback file(s) in {feedback_dir}/.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
