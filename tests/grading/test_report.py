"""The report no name can break: grades.csv read back with `csv`, escaped names on the
terminal and in summary.txt, bounded cells, hashed feedback names, one student's failure
costing nobody else's output."""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from pathlib import Path

import pytest

from instructor.grading import report
from instructor.grading.grade import ClassRun, ExerciseGrade, StudentRow
from instructor.grading.report import (
    MAX_CELL_CHARS,
    MAX_FILE_NAME_BYTES,
    MAX_NAME_CHARS,
    class_summary,
    csv_cell,
    display_name,
    escape,
    feedback_names,
    student_cell,
    write_report,
)

EXERCISES = ["04.1", "02.1"]
FORGED = "\r\nbob,10,10,20,20,,\r\n"  # what an attacker appends to become a classmate's row
HOSTILE = [
    "zz\rbob",
    "zz\nbob",
    "bob",
    "=cmd|' /C calc'!A0",
    "+x",
    "-x",
    "@x",
    "  =SUM(A1)",
    "\t=1+1",
    "\x1b]0;grading finished, no problems\x07",  # sets the terminal's title
    "\x1b[2J\x1b[Hgrading finished, no problems",  # clears the screen
    "\x9b31m",  # a C1 control sequence introducer
    "\u202etxt.exe",  # right-to-left override
    "a" * 244,  # with ".ipynb": a 250-byte file name
    "a" * 243 + "b",  # differs from the previous only at the end
    "é" * 122,  # 244 bytes of UTF-8
    "back\\rslash",  # a real backslash and r: must not look like "back\rslash"
    "back\rslash",
    "bad\udcffutf8",  # a file name that is not UTF-8 (surrogate escape)
    "ann lee",
    "ann_lee",
    "Ann_Lee",
    "CON",
    "-",
    ".",
]


def _grade(eid: str, points: float, flags: tuple[str, ...] = (), note: str = "") -> ExerciseGrade:
    return ExerciseGrade(eid, points, 10.0, "passed" if points == 10 else "failed",
                         f"Exercise {eid}: {points:g} points", notes=[note] if note else [],
                         flags=list(flags))


def _run(students: list[str]) -> tuple[ClassRun, dict[str, tuple[float, float]]]:
    rows, expected = [], {}
    for i, student in enumerate(students):
        a, b = float(i % 11), float((3 * i) % 11)
        reason = f"04.1: rejected: {FORGED}=HYPERLINK(\"http://x\")"  # written by student code
        row = StudentRow(student, {"04.1": _grade("04.1", a, note=student + FORGED),
                                   "02.1": _grade("02.1", b)},
                         flags=[reason, f"@{student}"], errors=[f"-{student}{FORGED}"])
        rows.append(row)
        expected[student] = (a, b)
    return ClassRun(rows, EXERCISES, "none", 1.0, 2 * len(rows)), expected


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_escape_keeps_printable_text_and_is_injective():
    assert escape("Zoë Müller-Łukasz 王") == "Zoë Müller-Łukasz 王"
    assert escape("a\rb") == "a\\rb" and escape("a\\rb") == "a\\\\rb"
    assert escape("\x1b[2J") == "\\x1b[2J" and escape("\u202e") == "\\u202e"
    assert escape("\x85\u2028") == "\\x85\\u2028"
    shown = [escape(s) for s in HOSTILE]
    assert len(set(shown)) == len(HOSTILE)
    for text in shown:
        assert text.isprintable(), text
        assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in text)


@pytest.mark.parametrize("text", ["=cmd", "+x", "-x", "@x", "  =x", "\u3000=x", "\uff1dx",
                                  "\t=x"])
def test_formulas_are_defused(text):
    cell = csv_cell(text)
    assert cell.startswith("'") or cell.startswith("\\"), cell
    assert csv_cell("x=1") == "x=1" and csv_cell("10") == "10"


def test_cells_are_bounded():
    assert len(csv_cell("x" * 100_000)) <= MAX_CELL_CHARS
    assert csv_cell("x" * 100_000).endswith("more characters]")
    assert len(display_name("\x00" * 10_000)) <= MAX_NAME_CHARS
    # two long names that differ only at the end stay distinct
    assert display_name("a" * 244) != display_name("a" * 243 + "b")


def test_grades_csv_has_exactly_one_row_per_student_with_the_right_grades(tmp_path):
    run, expected = _run(HOSTILE)
    result = write_report(run, tmp_path)
    assert result.problems == []
    text = (tmp_path / "grades.csv").read_text(encoding="utf-8")
    # one physical line per student: no cell holds a line break or a control character
    assert text.count("\n") == len(HOSTILE) + 1 and "\r" not in text
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in text.replace("\n", ""))
    rows = _read(tmp_path / "grades.csv")
    assert len(rows) == len(HOSTILE)
    by_name = {row["student"]: row for row in rows}
    assert len(by_name) == len(HOSTILE)
    for student, (a, b) in expected.items():
        row = by_name[student_cell(student)]
        assert (float(row["04.1"]), float(row["02.1"])) == (a, b), student
        assert float(row["total"]) == a + b and row["max"] == "20"
    assert by_name["bob"]["04.1"] == "2"  # the real bob, not the attacker's forged line
    for row in rows:
        for column, cell in row.items():
            assert not cell.lstrip().startswith(tuple("=+-@")), (column, cell)
            assert len(cell) <= MAX_CELL_CHARS + 1
        assert row["flags"].startswith("04.1: rejected: \\r\\nbob,10")


def test_terminal_summary_and_feedback_hold_no_escape_sequence(tmp_path):
    run, _ = _run(HOSTILE)
    result = write_report(run, tmp_path)
    summary = class_summary(run)
    assert "\x1b" not in summary and "\x9b" not in summary and "\r" not in summary
    assert "\\x1b]0;grading finished" in summary  # shown, escaped, not run
    assert (tmp_path / "summary.txt").read_text(encoding="utf-8") == summary + "\n"
    assert len(result.feedback) == len(HOSTILE)
    for path in (tmp_path / "feedback").iterdir():
        body = path.read_text(encoding="utf-8")
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", body)
    bob = (tmp_path / "feedback" / "bob.txt").read_text(encoding="utf-8")
    assert bob.startswith("Feedback for bob\n") and "Note: bob\\r\\nbob,10" in bob


def test_feedback_names_are_short_safe_and_collision_free():
    names = feedback_names(HOSTILE + ["x/../y", "..", "é", "ann_lee-" + "0" * 12])
    assert len(set(n.lower() for n in names.values())) == len(names)
    for name in names.values():
        assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*\.txt", name), name
        assert len(name.encode()) <= MAX_FILE_NAME_BYTES
    assert names["bob"] == "bob.txt" and names["ann_lee"] != "ann_lee.txt"  # Ann_Lee collides
    assert names["CON"] != "CON.txt"  # reserved on Windows
    assert names["a" * 244].startswith("a" * 40)


def test_one_students_failure_costs_nobody_else(tmp_path, monkeypatch):
    run, _ = _run(["ann", "bob", "cat"])
    real = report.feedback_text

    def broken(row):
        if row.student == "bob":
            raise RuntimeError("disk says no\x1b[2J")
        return real(row)

    monkeypatch.setattr(report, "feedback_text", broken)
    result = write_report(run, tmp_path)
    assert len(_read(tmp_path / "grades.csv")) == 3
    assert sorted(p.name for p in (tmp_path / "feedback").iterdir()) == ["ann.txt", "cat.txt"]
    assert len(result.problems) == 1 and "feedback for bob not written" in result.problems[0]
    summary = (tmp_path / "summary.txt").read_text(encoding="utf-8")
    assert "feedback for bob not written" in summary and "\x1b" not in summary
    assert not [p for p in tmp_path.rglob(".*tmp-*")]  # no leftover temporary file


def test_a_row_the_report_cannot_format_still_gets_its_line(tmp_path):
    run, _ = _run(["ann", "bob"])
    del run.rows[1].grades["02.1"]  # a broken row
    write_report(run, tmp_path)
    rows = _read(tmp_path / "grades.csv")
    assert [r["student"] for r in rows] == ["ann", "bob"]
    assert "could not format" in rows[1]["error"]


def test_an_unwritable_feedback_folder_leaves_grades_and_summary(tmp_path):
    run, _ = _run(["ann"])
    (tmp_path / "feedback").write_text("a file where the folder should be")
    result = write_report(run, tmp_path)
    assert len(_read(tmp_path / "grades.csv")) == 1
    assert result.problems and "summary" not in " ".join(result.problems)
    assert (tmp_path / "summary.txt").exists()


def test_write_all_writes_the_csv_first(tmp_path, monkeypatch):
    order = []
    real_write = report._atomic_write
    monkeypatch.setattr(report, "_atomic_write",
                        lambda path, text: (order.append(path.name), real_write(path, text)))
    run, _ = _run(["ann", "bob"])
    assert report.write_all(run, tmp_path) == tmp_path / "grades.csv"
    assert order[0] == "grades.csv" and order[-1] == "summary.txt"
    assert os.listdir(tmp_path / "feedback")
    assert io.StringIO((tmp_path / "grades.csv").read_text()).readline().startswith("student,")
