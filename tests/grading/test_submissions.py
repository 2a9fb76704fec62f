"""Grading a class: correct, wrong, stuck and malformed submissions, each in its own row."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tlkit.grading import exercise_cells, find_submissions, grade_class, main

CORRECT_04 = '''### EXERCISE 04.1
def recommend_strategy(dataset_size, task_similarity):
    if dataset_size < 1000:
        return "feature_extraction" if task_similarity == "high" else "fine_tuning"
    if dataset_size < 100000:
        return "fine_tuning"
    return "from_scratch" if task_similarity == "low" else "fine_tuning"

print(recommend_strategy(len(my_dataset), "high"))  # uses a variable from another cell
'''

WRONG_04 = '''### EXERCISE 04.1
def recommend_strategy(dataset_size, task_similarity):
    print("thinking...")
    if dataset_size <= 1000:
        return "feature_extraction" if task_similarity == "high" else "fine_tuning"
    if dataset_size <= 100000:
        return "fine_tuning"
    return "from_scratch" if task_similarity == "low" else "fine_tuning"
'''

LOOPING_04 = '''### EXERCISE 04.1
def recommend_strategy(dataset_size, task_similarity):
    while True:
        pass
'''

CORRECT_03 = '''### EXERCISE 03.1
def per_layer_sgd_update(weights, grads, base_lr, multipliers, frozen):
    return {name: (w.copy() if name in frozen
                   else w - base_lr * multipliers.get(name, 1.0) * grads[name])
            for name, w in weights.items()}
'''

STUB_03 = '''### EXERCISE 03.1
def per_layer_sgd_update(weights, grads, base_lr, multipliers, frozen):
    # YOUR CODE HERE
    raise NotImplementedError("Exercise: replace this line with your code")
'''


def notebook(*exercise_sources: str, imports: str = "import numpy as np") -> dict:
    def code(source: str, tags: list[str] | None = None) -> dict:
        return {"cell_type": "code", "execution_count": None, "id": str(abs(hash(source))),
                "metadata": {"tags": tags} if tags else {}, "outputs": [], "source": source}

    cells = [{"cell_type": "markdown", "id": "md", "metadata": {}, "source": "# Part"},
             code(imports, ["imports"])]
    for source in exercise_sources:
        cells.append(code(source))
        cells.append(code("check(...)"))
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def write(path: Path, nb: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb), encoding="utf-8")


@pytest.fixture
def submissions(tmp_path: Path) -> Path:
    root = tmp_path / "submitted"
    write(root / "alice.ipynb", notebook(
        CORRECT_04, CORRECT_03, imports="%matplotlib inline\nimport numpy as np"))
    write(root / "bob" / "part3.ipynb", notebook(STUB_03))
    write(root / "bob" / "part4.ipynb", notebook(WRONG_04))
    write(root / "carol.ipynb", notebook(LOOPING_04, CORRECT_03))
    (root / "dave.ipynb").write_text("{ this is not json", encoding="utf-8")
    return root


def test_find_submissions(submissions):
    found = find_submissions(submissions)
    assert list(found) == ["alice", "bob", "carol", "dave"]
    assert [p.name for p in found["bob"]] == ["part3.ipynb", "part4.ipynb"]


def test_exercise_cells_use_the_marker_and_the_imports_tag():
    imports, exercises, notes = exercise_cells(
        notebook(CORRECT_04, "### EXERCISE 99.9\ndef f(): pass", CORRECT_03), "nb.ipynb")
    assert [c.label for c in imports] == ["nb.ipynb, cell 2"]
    assert {k: c.label for k, c in exercises.items()} == {
        "04.1": "nb.ipynb, cell 3", "03.1": "nb.ipynb, cell 7"}
    assert notes == ["nb.ipynb, cell 5: unknown exercise id '99.9', ignored"]


def test_grading_a_class(submissions, tmp_path, capsys):
    out = tmp_path / "grades" / "grades.csv"
    assert main([str(submissions), "--out", str(out), "--timeout", "2", "--jobs", "2"]) == 0

    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    table = {r["student"]: [r["03.1"], r["04.1"], r["total"]] for r in rows}
    assert list(csv.reader(out.open(encoding="utf-8")))[0] == [
        "student", "03.1", "04.1", "total", "error"]
    assert table == {
        "alice": ["10", "10", "20"],
        "bob": ["0", "7.14", "7.14"],  # stub; 5 of 7 cases (off by one at two boundaries)
        "carol": ["10", "0", "10"],  # the infinite loop costs 04.1 only
        "dave": ["0", "0", "0"],
    }
    errors = {r["student"]: r["error"] for r in rows}
    assert errors["dave"].startswith("malformed notebook dave.ipynb: ")
    assert errors["alice"] == errors["bob"] == errors["carol"] == ""

    feedback = tmp_path / "grades" / "feedback"
    assert sorted(p.name for p in feedback.iterdir()) == [
        "alice.txt", "bob.txt", "carol.txt", "dave.txt"]
    alice = (feedback / "alice.txt").read_text(encoding="utf-8")
    assert "✅ Exercise 04.1 passed (7/7 checks)." in alice
    assert "raised NameError: name 'my_dataset' is not defined on line 9" in alice
    assert "Total: 20 / 20 points" in alice
    bob = (feedback / "bob.txt").read_text(encoding="utf-8")
    assert "⏳ Exercise 03.1 is not done yet" in bob
    assert "❌ Exercise 04.1: 5/7 checks passed" in bob and "Hint: Check `<` against `<=`" in bob
    assert "(part4.ipynb, cell 3)" in bob
    carol = (feedback / "carol.txt").read_text(encoding="utf-8")
    assert "⌛ Exercise 04.1: stopped after 2 s" in carol
    assert "malformed notebook" in (feedback / "dave.txt").read_text(encoding="utf-8")

    summary = capsys.readouterr().out
    assert "Graded 4 student(s) on 2 exercise(s) (03.1, 04.1), 20 points in all." in summary
    assert "1 submission(s) with problems" in summary and "dave: malformed notebook" in summary


def test_missing_exercise_and_broken_imports(tmp_path):
    root = tmp_path / "sub"
    write(root / "erin.ipynb", notebook(CORRECT_03, imports="import no_such_module_xyz"))
    write(root / "frank.ipynb", notebook(CORRECT_03.replace("per_layer_sgd_update", "other")))
    grades, exercises = grade_class(root, timeout=10, exercises=["03.1", "04.1"], jobs=2)
    by_name = {g.student: g.grades for g in grades}
    assert exercises == ["03.1", "04.1"]
    assert by_name["erin"]["03.1"].status == "error"
    assert "the imports cell (erin.ipynb, cell 2) failed: ModuleNotFoundError" in (
        by_name["erin"]["03.1"].summary)
    assert by_name["erin"]["04.1"].status == "missing"
    assert by_name["frank"]["03.1"].status == "error"
    assert "does not define `per_layer_sgd_update`" in by_name["frank"]["03.1"].summary
