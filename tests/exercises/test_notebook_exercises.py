"""The notebooks' exercise cells: the solutions score full marks, the untouched stubs score 0.

Each exercise cell is run on its own (with NumPy, as the grader does), then the public and
hidden cases go through run_cases (student side) and score_outcomes (instructor side).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from instructor import exercises as answer_key
from tlkit.exercises import all_exercises, exercise_ids, run_cases

ROOT = Path(__file__).resolve().parents[2]


def exercise_cells(folder: str) -> dict[str, tuple[str, str]]:
    """exercise id -> (notebook name, cell source), from the `### EXERCISE <id>` first lines."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted((ROOT / folder).glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if cell["cell_type"] == "code" and source.startswith("### EXERCISE "):
                exercise_id = source.splitlines()[0].split()[2]
                assert exercise_id not in found, f"{exercise_id} appears twice"
                found[exercise_id] = (path.name, source)
    return found


def defined(source: str, name: str):
    namespace = {"__name__": "__main__", "np": np}
    exec(compile(source, "<exercise cell>", "exec"), namespace)
    return namespace[name]


def test_every_exercise_has_one_cell_in_the_notebook_of_its_part():
    for folder in ("solutions", "notebooks"):
        cells = exercise_cells(folder)
        assert sorted(cells) == exercise_ids()
        for exercise in all_exercises():
            assert cells[exercise.id][0].startswith(f"0{exercise.part}_")
    per_part = {part: sum(e.part == part for e in all_exercises()) for part in (1, 2, 3, 4)}
    assert min(per_part.values()) >= 2


@pytest.mark.parametrize("exercise_id", exercise_ids())
def test_the_solution_cell_scores_full_marks_and_the_stub_zero(exercise_id):
    exercise = next(e for e in all_exercises() if e.id == exercise_id)
    cases = exercise.public_cases + answer_key.hidden_cases(exercise.id, 20261201)
    solved = defined(exercise_cells("solutions")[exercise_id][1], exercise.name)
    result = answer_key.score(exercise.id, cases, run_cases(exercise, solved, cases))
    assert result.status == "passed", result.messages
    assert result.points == exercise.points
    stub_source = exercise_cells("notebooks")[exercise_id][1]
    assert "### BEGIN SOLUTION" not in stub_source and "NotImplementedError" in stub_source
    stub = defined(stub_source, exercise.name)  # the stub cell itself runs without error
    result = answer_key.score(exercise.id, cases, run_cases(exercise, stub, cases))
    assert result.status == "not_done" and result.points == 0
