"""nbgrader on the course: the stamped metadata builds a release without answers and
``nbgrader autograde`` gives points per exercise (hidden tests included).

Runs ``nbgrader generate_assignment`` on every solution notebook (no execution), then
``nbgrader autograde`` on a small assignment made of the real cells of solutions/ (the
imports, each exercise cell, its hidden-tests cell and its check cell) for two students:
the solutions (full points) and the student release (0 points). About 30 s.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from instructor import exercises as answer_key
from instructor.nbgrader_stamp import stamp_notebook
from tlkit.exercises.registry import all_exercises

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
NBGRADER = [sys.executable, "-m", "nbgrader"]


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _run(args: list[str], course: Path) -> subprocess.CompletedProcess:
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = dict(os.environ, PATH=path, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([*NBGRADER, *args, f"--CourseDirectory.root={course}"], cwd=course,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


def test_stamp_moves_a_hidden_cell_back_above_the_check_cell():
    def code(source, **meta):
        return {"cell_type": "code", "metadata": meta, "source": source, "outputs": [],
                "execution_count": None}

    nb = {"cells": [code("### EXERCISE 04.1\ndef recommend_strategy(n, s): pass"),
                    code('check("04.1", recommend_strategy)'),
                    code("# hidden", nbgrader={"grade_id": "hidden04_1"})]}
    changes = stamp_notebook(nb, {"04.1": ("recommend_strategy", 10.0)})
    assert any("moved" in c for c in changes)
    assert [c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"]] == [
        "ex04_1", "hidden04_1", "check04_1"]
    assert 'hidden_points("04.1", recommend_strategy)' in nb["cells"][1]["source"]
    assert stamp_notebook(nb, {"04.1": ("recommend_strategy", 10.0)}) == []


def test_solutions_are_stamped():
    exercises = {e.id: (e.name, float(e.points)) for e in all_exercises()}
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert stamp_notebook(copy.deepcopy(nb), exercises) == [], (
            f"{path.name}: run `flock /tmp/tlkit-nb.lock python -m instructor.nbgrader_stamp`")
    stamped = {json.dumps(c["metadata"]["nbgrader"]["grade_id"])
               for p in SOLUTIONS.glob("*.ipynb")
               for c in json.loads(p.read_text(encoding="utf-8"))["cells"]
               if "nbgrader" in c.get("metadata", {})}
    for exercise_id in exercises:
        for prefix in ("ex", "hidden", "check"):
            assert json.dumps(prefix + exercise_id.replace(".", "_")) in stamped


def _stamped(path: Path) -> dict:
    """A solution notebook as the stamping tool leaves it (the file is not changed)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    stamp_notebook(nb, {e.id: (e.name, float(e.points)) for e in all_exercises()})
    return nb


def _mini_assignment() -> dict:
    """The imports cells and every exercise's three cells, taken from solutions/."""
    cells = []
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        for cell in _stamped(path)["cells"]:
            meta = cell.get("metadata", {})
            if "imports" in (meta.get("tags") or []) or "nbgrader" in meta:
                cell = copy.deepcopy(cell)
                cell["outputs"] = [] if cell["cell_type"] == "code" else cell.get("outputs")
                if cell["cell_type"] == "code":
                    cell["execution_count"] = None
                else:
                    cell.pop("outputs", None)
                cells.append(cell)
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("nbgrader-course")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'tlkit'\n"
        "c.ExecutePreprocessor.timeout = 120\n", encoding="utf-8")
    full = course / "source" / "course"
    full.mkdir(parents=True)
    for path in SOLUTIONS.glob("*.ipynb"):
        (full / path.name).write_text(json.dumps(_stamped(path)), encoding="utf-8")
    mini = course / "source" / "ps1"
    mini.mkdir(parents=True)
    (mini / "exercises.ipynb").write_text(json.dumps(_mini_assignment()), encoding="utf-8")
    for assignment in ("course", "ps1"):
        _run(["generate_assignment", assignment, "--force"], course)
    for student, notebook in (("good", mini / "exercises.ipynb"),
                              ("stub", course / "release" / "ps1" / "exercises.ipynb")):
        target = course / "submitted" / student / "ps1"
        target.mkdir(parents=True)
        shutil.copy(notebook, target / "exercises.ipynb")
        (target / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")
    _run(["autograde", "ps1", "--force", "--create"], course)
    return course


def test_release_has_no_answers_and_no_hidden_tests(course):
    released = sorted((course / "release" / "course").glob("*.ipynb"))
    assert [p.name for p in released] == sorted(p.name for p in SOLUTIONS.glob("*.ipynb"))
    for path in released:
        text = "\n".join(_source(c) for c in json.loads(path.read_text())["cells"])
        assert "### BEGIN SOLUTION" not in text and "### BEGIN HIDDEN TESTS" not in text
        assert "hidden_points(" not in text
    for exercise in all_exercises():
        assert any(f"### EXERCISE {exercise.id}" in p.read_text() for p in released)


def test_autograde_gives_points_per_exercise(course):
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in ("good", "stub"):
            notebook = gradebook.find_submission_notebook("exercises", "ps1", student)
            for grade in notebook.grades:
                scores[(student, grade.name)] = (grade.max_score, grade.auto_score)
    for exercise in all_exercises():
        cell = "hidden" + exercise.id.replace(".", "_")
        assert scores[("good", cell)] == (exercise.points, exercise.points), cell
        assert scores[("stub", cell)] == (exercise.points, 0.0), cell


def test_hidden_points_gives_partial_credit_from_the_cases(capsys):
    from instructor.grading.hidden import hidden_points
    from tlkit.exercises.registry import get_exercise

    exercise = get_exercise("04.1")

    def copied(dataset_size, task_similarity):
        return answer_key.reference(exercise.id)(dataset_size, task_similarity)

    assert hidden_points("04.1", copied, seed=3) == exercise.points
    assert hidden_points("04.1", answer_key.reference(exercise.id), seed=3) == 0.0  # the fallback itself

    def stub(dataset_size, task_similarity):
        raise NotImplementedError

    assert hidden_points("04.1", stub, seed=3) == 0.0

    def always_fine_tuning(dataset_size, task_similarity):
        return "fine_tuning"

    points = hidden_points("04.1", always_fine_tuning, seed=3)
    assert 0.0 < points < exercise.points
    assert "Hidden tests: Exercise 04.1" in capsys.readouterr().out
