"""What the grader writes: grades.csv, feedback files, the class summary.

Every text that reaches a file or the terminal may come from a student (file names,
messages their code raised, notes, rejection reasons), so all of it goes through
:func:`escape`: control characters (C0, DEL, C1), format characters (bidi overrides and
isolates, zero-width marks), line and paragraph separators and unpaired surrogates (from
file names that are not UTF-8) become visible backslash escapes; a backslash is doubled,
so two different names never look alike. CSV cells are also defused for spreadsheets
(:func:`csv_cell`: a leading ``= + - @``, also after whitespace, gets a ``'`` in front)
and size-bounded (:data:`MAX_NAME_CHARS`, :data:`MAX_CELL_CHARS`).

Order and failure: grades.csv is written first (atomically: a temporary file renamed
over the target, removed if writing fails), then one feedback file per student, then
summary.txt. A failure while writing one student's feedback or the summary is recorded
and never costs another student's output.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import statistics
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from instructor.grading.grade import ClassRun, StudentRow
from tlkit.exercises.registry import get_exercise

__all__ = [
    "COLUMNS_AFTER",
    "MAX_CELL_CHARS",
    "MAX_NAME_CHARS",
    "MAX_FILE_NAME_BYTES",
    "escape",
    "display_name",
    "csv_cell",
    "student_cell",
    "fmt_points",
    "feedback_names",
    "csv_text",
    "write_csv",
    "feedback_text",
    "write_feedback",
    "class_summary",
    "Report",
    "write_report",
    "write_all",
]

COLUMNS_AFTER = ("total", "max", "flags", "error")
MAX_NAME_CHARS = 100  # a student cell (escaped); longer names keep a head and a hash
MAX_CELL_CHARS = 2000  # any other cell (flags, error)
MAX_LINE_CHARS = 2000  # one line of a feedback file or of the summary
MAX_FILE_NAME_BYTES = 100  # feedback file names (the file systems' limit is 255)
_HASH_CHARS = 12
_FORMULA_START = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")  # and their full-width forms
_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\"}
_UNSAFE_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
_SAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]")
_RESERVED_FILE_STEMS = frozenset(
    ["con", "prn", "aux", "nul"] + [f"com{i}" for i in range(10)] + [f"lpt{i}" for i in range(10)])


# --------------------------------------------------------------------------------------
# Text that may come from a student
# --------------------------------------------------------------------------------------


def _escape_char(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    if unicodedata.category(char) not in _UNSAFE_CATEGORIES:
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(text: object) -> str:
    """``text`` with every character that could act on a terminal, a CSV reader or a
    spreadsheet shown as a backslash escape (``\\r``, ``\\x1b``, ``\\u202e``, ``\\\\``).

    Injective: two different texts never escape to the same string. Printable text
    (letters of any script, digits, punctuation, spaces) is unchanged.
    """
    text = text if isinstance(text, str) else str(text)
    if text.isprintable() and "\\" not in text:  # the common case, fast
        return text
    return "".join(_escape_char(c) for c in text)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]


def _bound(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    tail = f" ... [{len(text) - limit} more characters]"
    return text[: max(0, limit - len(tail))] + tail


def display_name(student: str) -> str:
    """How a student id is shown everywhere (CSV, terminal, summary, feedback): escaped,
    at most :data:`MAX_NAME_CHARS` characters; a longer name keeps its head and a hash of
    the whole id, so two long names that differ only at the end stay distinct."""
    shown = escape(student)
    if len(shown) <= MAX_NAME_CHARS:
        return shown
    return f"{shown[: MAX_NAME_CHARS - _HASH_CHARS - 4]}...#{_digest(student)}"


def csv_cell(text: object, limit: int = MAX_CELL_CHARS) -> str:
    """One CSV cell: escaped, bounded, and defused for spreadsheets (a cell whose first
    non-blank character is ``= + - @`` gets a leading ``'``, which spreadsheets read as
    "this is text")."""
    return _defuse(_bound(escape(text), limit))


def student_cell(student: str) -> str:
    """The ``student`` cell of grades.csv for a student id (what a reader of the CSV
    finds): :func:`display_name`, defused for spreadsheets."""
    return _defuse(display_name(student))


def _defuse(cell: str) -> str:
    return "'" + cell if cell.lstrip()[:1] in _FORMULA_START else cell


def _line(text: object) -> str:
    return _bound(escape(text), MAX_LINE_CHARS)


def fmt_points(points: float) -> str:
    """Points with at most two decimals and no trailing zeros ("7.5", "10"); never "-0"."""
    text = f"{round(float(points), 2):g}"
    return "0" if text == "-0" else text


# --------------------------------------------------------------------------------------
# Feedback file names
# --------------------------------------------------------------------------------------


def _hashed_file_name(student: str) -> str:
    stem = _SAFE_FILE_CHARS.sub("_", student).strip("._-")
    budget = MAX_FILE_NAME_BYTES - len(".txt") - _HASH_CHARS - 1
    return f"{stem[:budget].rstrip('._-') or 'student'}-{_digest(student)}.txt"


def _plain_file_name(student: str) -> str | None:
    """The id itself as a file name when it is one already: safe characters, no leading
    dot or dash, short, not a name Windows reserves."""
    if (_SAFE_FILE_CHARS.search(student) or not student or student[0] in ".-"
            or len(student) + 4 > MAX_FILE_NAME_BYTES
            or student.split(".")[0].lower() in _RESERVED_FILE_STEMS):
        return None
    return student + ".txt"


def feedback_names(students: list[str]) -> dict[str, str]:
    """Student id -> feedback file name: only ``A-Z a-z 0-9 . _ -``, at most
    :data:`MAX_FILE_NAME_BYTES` bytes, and distinct even ignoring letter case.

    An id that is a safe file name already keeps it ("ann_lee.txt"); any other id, and
    any id whose name would collide with another's, gets a shortened safe stem and a hash
    of the whole id ("ann_lee-3f2a...txt").
    """
    names = {s: _plain_file_name(s) or _hashed_file_name(s) for s in dict.fromkeys(students)}
    while True:
        seen: dict[str, list[str]] = {}
        for student, name in names.items():
            seen.setdefault(name.lower(), []).append(student)
        clashes = [s for group in seen.values() if len(group) > 1 for s in group
                   if names[s] != _hashed_file_name(s)]
        if not clashes:
            return names
        for student in clashes:
            names[student] = _hashed_file_name(student)


# --------------------------------------------------------------------------------------
# grades.csv
# --------------------------------------------------------------------------------------


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", errors="backslashreplace", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _csv_row(row: StudentRow, exercises: list[str]) -> list[str]:
    return [student_cell(row.student),
            *(fmt_points(row.grades[e].points) for e in exercises),
            fmt_points(row.total), fmt_points(row.max_total),
            _joined(row.flags), _joined(row.errors)]


def _joined(texts: list[str]) -> str:
    return _defuse(_bound("; ".join(escape(t) for t in texts), MAX_CELL_CHARS))


def csv_text(run: ClassRun) -> str:
    """grades.csv: student, one column per exercise id, total, max, flags, error.

    Exactly one line per row: no cell holds a line break or any other control character.
    A row the report cannot format still gets a line (zeros and the reason).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *run.exercises, *COLUMNS_AFTER])
    for row in run.rows:
        try:
            cells = _csv_row(row, run.exercises)
        except Exception as exc:  # noqa: BLE001 - one odd row never costs the others theirs
            cells = [student_cell(str(row.student)),
                     *("0" for _ in run.exercises), "0", "0", "",
                     csv_cell(f"the report could not format this row ({type(exc).__name__})")]
        writer.writerow(cells)
    return buffer.getvalue()


def write_csv(run: ClassRun, path: Path | str) -> Path:
    """Write grades.csv atomically (a temporary file renamed over the target)."""
    path = Path(path)
    _atomic_write(path, csv_text(run))
    return path


# --------------------------------------------------------------------------------------
# Feedback and summary
# --------------------------------------------------------------------------------------


def feedback_text(row: StudentRow) -> str:
    """The student's feedback: every line escaped and bounded."""
    title = f"Feedback for {display_name(row.student)}"
    lines = [title, "=" * len(title), ""]
    for exercise_id, grade in row.grades.items():
        exercise = get_exercise(exercise_id)
        where = f"  ({_line(grade.source)})" if grade.source else ""
        lines.append(f"Exercise {exercise_id}, {exercise.title}: {fmt_points(grade.points)} / "
                     f"{fmt_points(grade.max_points)} points{where}")
        lines.append(f"  {_line(grade.summary)}")
        lines.extend(f"    {_line(message)}" for message in grade.messages)
        lines.extend(f"  Hint: {_line(hint)}" for hint in grade.hints)
        lines.extend(f"  Note: {_line(note)}" for note in grade.notes)
        lines.append("")
    lines.append(f"Total: {fmt_points(row.total)} / {fmt_points(row.max_total)} points")
    if row.errors:
        lines += ["", "Problems with the submission:", *(f"  - {_line(e)}" for e in row.errors)]
    if row.flags:
        lines += ["", "For the instructor's review:", *(f"  - {_line(f)}" for f in row.flags)]
    return "\n".join(lines) + "\n"


def write_feedback(run: ClassRun, folder: Path | str,
                   problems: list[str] | None = None) -> dict[str, Path]:
    """One text file per student in ``folder``; returns student -> path.

    A student whose file cannot be written is listed in ``problems`` (when given; else
    the first such error is raised after every other file is written).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = feedback_names([row.student for row in run.rows])
    paths: dict[str, Path] = {}
    failures: list[str] = []
    for row in run.rows:
        try:
            path = folder / names[row.student]
            _atomic_write(path, feedback_text(row))
            paths[row.student] = path
        except Exception as exc:  # noqa: BLE001 - one student's file never costs the others'
            failures.append(f"feedback for {display_name(row.student)} not written "
                            f"({type(exc).__name__}: {_bound(escape(exc), 200)})")
    if problems is not None:
        problems.extend(failures)
    elif failures:
        raise OSError("; ".join(failures))
    return paths


def _names(students: list[str], limit: int = 50) -> str:
    shown = ", ".join(display_name(s) for s in students[:limit])
    return shown + (f", and {len(students) - limit} more" if len(students) > limit else "")


def class_summary(run: ClassRun) -> str:
    """Mean and median per exercise and of the total, counts per status, problems.

    Student names appear escaped (see :func:`display_name`), so printing the summary on
    a terminal never runs an escape sequence from a file name.
    """
    n = len(run.rows)
    lines = [f"Graded {n} submission(s) on {len(run.exercises)} exercise(s) in "
             f"{run.seconds:.1f} s ({run.tasks} sandboxed run(s), isolation: {escape(run.mode)})."]
    statuses = ("passed", "failed", "not_done", "error", "missing", "timeout", "crashed",
                "rejected", "undefined")
    lines.append(f"{'exercise':<10}{'max':>6}{'mean':>8}{'median':>8}  statuses")
    for eid in run.exercises:
        grades = [row.grades[eid] for row in run.rows if eid in row.grades]
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
        lines.append(f"flagged for review ({len(flagged)}): {_names(flagged)}")
    if failed:
        lines.append(f"with errors ({len(failed)}): {_names(failed)}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Everything, in order
# --------------------------------------------------------------------------------------


@dataclass
class Report:
    """What :func:`write_report` wrote, and what it could not write (escaped text)."""

    csv_path: Path
    feedback: dict[str, Path] = field(default_factory=dict)
    summary_path: Path | None = None
    problems: list[str] = field(default_factory=list)


def write_report(run: ClassRun, out_dir: Path | str) -> Report:
    """grades.csv first, then feedback/ and summary.txt in ``out_dir``.

    Only a failure to write grades.csv raises; a later failure (one student's feedback
    file, the summary) is listed in ``problems`` and in summary.txt.
    """
    out_dir = Path(out_dir)
    report = Report(write_csv(run, out_dir / "grades.csv"))
    try:
        report.feedback = write_feedback(run, out_dir / "feedback", report.problems)
    except Exception as exc:  # noqa: BLE001 - e.g. the folder itself cannot be made
        report.problems.append(f"no feedback folder ({type(exc).__name__}: "
                               f"{_bound(escape(exc), 200)})")
    try:
        text = class_summary(run)
    except Exception as exc:  # noqa: BLE001 - the CSV and feedback are written already
        text = f"The summary could not be computed ({type(exc).__name__})."
        report.problems.append(text)
    if report.problems:
        text += "\nproblems writing the report:\n" + "\n".join(f"  - {p}" for p in report.problems)
    try:
        _atomic_write(out_dir / "summary.txt", text + "\n")
        report.summary_path = out_dir / "summary.txt"
    except Exception as exc:  # noqa: BLE001
        report.problems.append(f"summary.txt not written ({type(exc).__name__})")
    return report


def write_all(run: ClassRun, out_dir: Path | str) -> Path:
    """grades.csv, feedback/ and summary.txt in ``out_dir``; returns the CSV path
    (problems with later steps are in summary.txt; see :func:`write_report`)."""
    return write_report(run, out_dir).csv_path
