"""What the grader writes: grades.csv (atomically), feedback files, the class summary."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import statistics
from pathlib import Path

from instructor.grading.grade import ClassRun, StudentRow
from tlkit.exercises.registry import get_exercise

__all__ = ["COLUMNS_AFTER", "fmt_points", "feedback_names", "write_csv", "write_feedback",
           "class_summary", "write_all"]

COLUMNS_AFTER = ("total", "max", "flags", "error")


def fmt_points(points: float) -> str:
    """Points with at most two decimals and no trailing zeros ("7.5", "10")."""
    return f"{round(points, 2):g}"


def _safe(student: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", student).strip(".") or "_"


def feedback_names(students: list[str]) -> dict[str, str]:
    """Student id -> feedback file name, distinct even when ids differ only in characters
    a file name cannot hold ("ann lee" and "ann_lee") or in letter case."""
    names: dict[str, str] = {}
    taken: dict[str, int] = {}
    for student in students:  # ids that are file names already keep them, unless case collides
        if _safe(student) == student:
            taken[student.lower()] = taken.get(student.lower(), 0) + 1
    for student in students:
        name = _safe(student)
        if name != student or taken[name.lower()] > 1:
            name = f"{name}-{hashlib.sha256(student.encode('utf-8')).hexdigest()[:8]}"
        names[student] = name + ".txt"
    return names


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def csv_text(run: ClassRun) -> str:
    """grades.csv: student, one column per exercise id, total, max, flags, error."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *run.exercises, *COLUMNS_AFTER])
    for row in run.rows:
        writer.writerow([row.student, *(fmt_points(row.grades[e].points) for e in run.exercises),
                         fmt_points(row.total), fmt_points(row.max_total),
                         "; ".join(row.flags), "; ".join(row.errors)])
    return buffer.getvalue()


def write_csv(run: ClassRun, path: Path | str) -> Path:
    """Write grades.csv atomically (a temporary file renamed over the target)."""
    path = Path(path)
    _atomic_write(path, csv_text(run))
    return path


def feedback_text(row: StudentRow) -> str:
    title = f"Feedback for {row.student}"
    lines = [title, "=" * len(title), ""]
    for exercise_id, grade in row.grades.items():
        exercise = get_exercise(exercise_id)
        where = f"  ({grade.source})" if grade.source else ""
        lines.append(f"Exercise {exercise_id}, {exercise.title}: {fmt_points(grade.points)} / "
                     f"{fmt_points(grade.max_points)} points{where}")
        lines.append(f"  {grade.summary}")
        lines.extend(f"    {message}" for message in grade.messages)
        lines.extend(f"  Hint: {hint}" for hint in grade.hints)
        lines.extend(f"  Note: {note}" for note in grade.notes)
        lines.append("")
    lines.append(f"Total: {fmt_points(row.total)} / {fmt_points(row.max_total)} points")
    if row.errors:
        lines += ["", "Problems with the submission:", *(f"  - {e}" for e in row.errors)]
    if row.flags:
        lines += ["", "For the instructor's review:", *(f"  - {f}" for f in row.flags)]
    return "\n".join(lines) + "\n"


def write_feedback(run: ClassRun, folder: Path | str) -> dict[str, Path]:
    """One text file per student in ``folder``; returns student -> path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = feedback_names([row.student for row in run.rows])
    paths = {}
    for row in run.rows:
        path = folder / names[row.student]
        _atomic_write(path, feedback_text(row))
        paths[row.student] = path
    return paths


def class_summary(run: ClassRun) -> str:
    """Mean and median per exercise and of the total, counts per status, problems."""
    n = len(run.rows)
    lines = [f"Graded {n} submission(s) on {len(run.exercises)} exercise(s) in "
             f"{run.seconds:.1f} s ({run.tasks} sandboxed run(s), isolation: {run.mode})."]
    statuses = ("passed", "failed", "not_done", "error", "missing", "timeout", "crashed",
                "rejected", "undefined")
    lines.append(f"{'exercise':<10}{'max':>6}{'mean':>8}{'median':>8}  statuses")
    for eid in run.exercises:
        grades = [row.grades[eid] for row in run.rows]
        points = [g.points for g in grades]
        counts = ", ".join(f"{s} {c}" for s in statuses
                           if (c := sum(g.status == s for g in grades)))
        mean = statistics.fmean(points) if points else 0.0
        median = statistics.median(points) if points else 0.0
        lines.append(f"{eid:<10}{fmt_points(get_exercise(eid).points):>6}{mean:>8.2f}"
                     f"{median:>8.2f}  {counts}")
    totals = [row.total for row in run.rows]
    if totals:
        max_total = sum(get_exercise(e).points for e in run.exercises)
        lines.append(f"{'total':<10}{fmt_points(max_total):>6}{statistics.fmean(totals):>8.2f}"
                     f"{statistics.median(totals):>8.2f}")
    flagged = [r.student for r in run.rows if r.flags]
    failed = [r.student for r in run.rows if r.errors]
    if flagged:
        lines.append(f"flagged for review ({len(flagged)}): {', '.join(flagged)}")
    if failed:
        lines.append(f"with errors ({len(failed)}): {', '.join(failed)}")
    return "\n".join(lines)


def write_all(run: ClassRun, out_dir: Path | str) -> Path:
    """grades.csv, feedback/ and summary.txt in ``out_dir``; returns the CSV path."""
    out_dir = Path(out_dir)
    write_feedback(run, out_dir / "feedback")
    _atomic_write(out_dir / "summary.txt", class_summary(run) + "\n")
    return write_csv(run, out_dir / "grades.csv")
