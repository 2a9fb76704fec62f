"""The demo class graded end to end by the command line, as an instructor would run it.

Expected grades come from tests/grading/demo_class.py (written from the exercise
statements and the attack each submission makes), not from the grader.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grading import demo_class
from instructor.grading import sandbox
from instructor.grading.report import display_name, student_cell

ROOT = Path(__file__).resolve().parents[2]
MEMORY_MIB = 1024  # the memory attacks exceed it in about a second (2048 takes 2-4 s here)
pytestmark = pytest.mark.skipif(
    sandbox.isolation() != "namespaces",
    reason="the hostile demo class needs the namespace sandbox (Linux, run as root)")


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.is_file()}


def _detached() -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if f"sleep {demo_class.DETACHED_MARK}" in line]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("demo")
    folder = base / "submissions"
    try:
        folder, roster = demo_class.build(folder)
        before = _digest(folder)
        out = base / "grades"  # the folder the vandal tries to write into
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env[demo_class.SECRET_VAR] = "s3cr3t-token-of-the-instructor"
        env["PYTHONPATH"] = str(ROOT)
        start = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "instructor.grading", str(folder), "--out", str(out), "--jobs", "2",
             "--timeout", "5", "--roster", str(roster), "--exercises", ",".join(demo_class.IDS),
             "--memory", str(MEMORY_MIB)],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
        seconds = time.monotonic() - start
        rows, lines = {}, []
        ids = {student_cell(s): s for s in demo_class.EXPECTED}  # the CSV shows names escaped
        if (out / "grades.csv").exists():
            with open(out / "grades.csv", encoding="utf-8", newline="") as handle:
                reader = csv.DictReader(handle)
                header = reader.fieldnames
                lines = list(reader)
                rows = {ids.get(row["student"], row["student"]): row for row in lines}
        else:
            header = None
        yield {"proc": proc, "folder": folder, "out": out, "before": before, "seconds": seconds,
               "rows": rows, "header": header, "lines": lines}
    finally:
        if (folder / "deep_folder").exists():
            demo_class.remove_tree(folder / "deep_folder")


def test_the_run_succeeds_and_every_student_has_a_row(graded):
    proc = graded["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert graded["header"] == ["student", *demo_class.IDS, "total", "max", "flags", "error"]
    assert sorted(graded["rows"]) == sorted(demo_class.EXPECTED)
    assert len(graded["rows"]) >= 15


@pytest.mark.parametrize("student", sorted(demo_class.EXPECTED) or ["honest"])
def test_grades_match_what_we_expect(graded, student):
    expect = demo_class.EXPECTED[student]
    row = graded["rows"][student]
    for eid, points in expect.points.items():
        if points is not None:
            assert float(row[eid]) == points, (eid, row)
    assert float(row["max"]) == 40.0
    assert float(row["total"]) == pytest.approx(sum(float(row[e]) for e in demo_class.IDS))
    for text in expect.flags:
        assert text in row["flags"], (text, row["flags"])
    for text in expect.errors:
        assert text in row["error"], (text, row["error"])
    if not expect.flags:
        assert "result frame" not in row["flags"]


def test_statuses_in_the_feedback(graded):
    feedback = graded["out"] / "feedback"
    for student, expect in demo_class.EXPECTED.items():
        texts = [p.read_text(encoding="utf-8") for p in feedback.iterdir()
                 if p.read_text(encoding="utf-8").startswith(
                     f"Feedback for {display_name(student)}\n")]
        assert len(texts) == 1, student
        for eid, status in expect.status.items():
            words = {"passed": "PASS", "not_done": "NOT DONE", "failed": "FAIL", "error": "ERROR",
                     "missing": "no cell", "timeout": "TIMEOUT", "crashed": "CRASHED",
                     "rejected": "REJECTED"}[status]
            block = texts[0].split(f"Exercise {eid},", 1)[1].split("\nExercise ", 1)[0]
            assert words in block, (student, eid, block)


def test_collision_free_feedback_names(graded):
    names = sorted(p.name for p in (graded["out"] / "feedback").iterdir())
    assert len(names) == len(demo_class.EXPECTED)
    assert "ann_lee.txt" in names
    assert any(n.startswith("ann_lee-") for n in names)


def test_the_sandbox_blocked_the_attacks(graded):
    # the vandal deleted nothing and wrote nothing outside its sandbox
    assert _digest(graded["folder"]) == graded["before"]
    assert (graded["out"] / "grades.csv").read_text().startswith("student,")
    assert "hacked" not in (graded["out"] / "grades.csv").read_text()
    # no detached process outlived its sandbox
    assert _detached() == []
    # the instructor's environment never reached student code
    for path in graded["out"].rglob("*"):
        if path.is_file():
            assert "s3cr3t" not in path.read_text(encoding="utf-8")
    # printed floods were bounded, the memory hog stopped by the limit
    noisy = next(p for p in (graded["out"] / "feedback").iterdir() if p.name.startswith("noisy"))
    assert "printed more than" in noisy.read_text(encoding="utf-8")
    hog = (graded["out"] / "feedback" / "memory_hog.txt").read_text(encoding="utf-8")
    assert "MemoryError" in hog


def test_speed_and_summary(graded):
    proc = graded["proc"]
    assert "isolation: namespaces" in proc.stdout
    assert "mean" in proc.stdout and "median" in proc.stdout
    n_tasks = int(re.search(r"\((\d+) sandboxed run", proc.stdout).group(1))
    # two seconds per exercise and student (one run each), plus the one endless loop's 5 s
    assert graded["seconds"] < 2.0 * n_tasks / 2 + 5 + 10, (graded["seconds"], n_tasks)
    print(f"demo class: {len(graded['rows'])} rows, {n_tasks} sandboxed runs, "
          f"{graded['seconds']:.1f} s with --jobs 2")


# ---- the report (issue 19, section 3), parsing bounds, honest names (issue 18) ----------


def test_one_csv_row_per_student_whatever_the_name(graded):
    lines = graded["lines"]
    assert len(lines) == len(demo_class.EXPECTED)  # no row split, none forged
    assert len({line["student"] for line in lines}) == len(lines)
    text = (graded["out"] / "grades.csv").read_text(encoding="utf-8")
    assert text.count("\n") == len(lines) + 1 and "\r" not in text and "\x1b" not in text
    for line in lines:
        for column, cell in line.items():
            assert not cell.lstrip().startswith(tuple("=+-@")), (column, cell)  # no spreadsheet formula
    # the classmate bob keeps bob's grade; "zz\rbob" keeps its own
    assert graded["rows"]["bob"]["04.1"] == "10" and graded["rows"]["zz\rbob"]["04.1"] == "0"
    assert graded["rows"]["=cmd"]["student"] == "'=cmd"


@pytest.mark.parametrize("student", [*demo_class.REPORT_NAMES, "honest", "report_reason_crlf",
                                     "deep_folder", "huge_notebook", "huge_cell",
                                     "cheat_pasted_reference", "honest_local_names"])
def test_report_attacks_are_graded_as_they_should_be(graded, student):
    expect, row = demo_class.EXPECTED[student], graded["rows"][student]
    for eid, points in expect.points.items():
        assert float(row[eid]) == points, (eid, row)
    for text in expect.flags:
        assert text in row["flags"], (text, row["flags"])
    for text in expect.errors:
        assert text in row["error"], (text, row["error"])
    for text in expect.absent:
        assert text not in row["flags"], (text, row["flags"])


def test_no_escape_sequence_reaches_the_terminal_or_the_summary(graded):
    proc = graded["proc"]
    for text in (proc.stdout, proc.stderr,
                 (graded["out"] / "summary.txt").read_text(encoding="utf-8")):
        assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "\\x1b[2J" in proc.stdout  # the name is shown, escaped
    for path in (graded["out"] / "feedback").iterdir():
        assert len(path.name.encode()) <= 100 and "\x1b" not in path.read_text(encoding="utf-8")


# ---- round two (issue 19): isolation, limits, forged results --------------------------


def _feedback(graded, student: str) -> str:
    texts = [p.read_text(encoding="utf-8") for p in (graded["out"] / "feedback").iterdir()]
    return next(t for t in texts if t.startswith(f"Feedback for {student}\n"))


def test_a_forged_frame_earns_what_its_outputs_earn(graded):
    forged, same = graded["rows"]["sbx_forged_frame"], graded["rows"]["sbx_same_outputs"]
    # "fine_tuning" everywhere is right for some calls only; the forgery adds nothing
    assert 0 < float(forged["04.1"]) < 10
    assert forged["04.1"] == same["04.1"], (forged, same)
    assert "result frame" not in forged["flags"]


def test_text_from_the_sandbox_cannot_pose_as_the_grader(graded):
    notes = _feedback(graded, "sbx_forged_notes")
    assert "Regraded by the instructor" not in notes
    raised = _feedback(graded, "sbx_raise_injection")
    assert "Regraded by the instructor" in raised  # kept, but quoted on the grader's line
    for line in raised.splitlines():
        assert not line.lstrip().startswith(("Regraded", "Total: 40")), line
        assert "\x1b" not in line
    assert "\x1b" not in (graded["out"] / "grades.csv").read_text(encoding="utf-8")


def test_run_record_holds_the_seed_and_a_bounded_peak(graded):
    record = json.loads((graded["out"] / "run.json").read_text(encoding="utf-8"))
    assert type(record["seed"]) is int and record["isolation"] == "namespaces"
    assert f"--seed {record['seed']}" in (graded["out"] / "summary.txt").read_text()
    assert record["limits"]["memory_mib"] == MEMORY_MIB and record["limits_not_applied"] == []
    # in-memory files and children of one sandbox stayed within its --memory
    assert 0 < record["peak_sandbox_memory_mib"] <= MEMORY_MIB, record
    print(f"demo class: seed {record['seed']}, highest sandbox peak "
          f"{record['peak_sandbox_memory_mib']} MiB of {MEMORY_MIB}")
