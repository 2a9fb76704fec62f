"""``python -m tlkit.exercises.check_notebook``: a student's check of a saved notebook, outside Jupyter.

A solved notebook passes (exit 0), the student notebook is NOT DONE (exit 1), a broken class
FAILs with the hint of its mistake; only the student side (tlkit) is needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tlkit.exercises import get_exercise
from tlkit.exercises.check_notebook import main

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, block_instructor: bool = False) -> subprocess.CompletedProcess:
    """The command as a student runs it; with block_instructor, `import instructor` fails."""
    code = "import sys\n"
    if block_instructor:
        code += "sys.modules['instructor'] = None\n"
    code += ("from tlkit.exercises.check_notebook import main\n"
             f"sys.exit(main({list(args)!r}))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)


def test_a_solved_notebook_passes_without_the_instructor_side():
    done = run("solutions/01_pretrained_model.ipynb", block_instructor=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        "Checking solutions/01_pretrained_model.ipynb on the public cases (the grader adds hidden ones).",
        "Exercise 01.1 (Batched feature extraction): PASS, 7/7 cases",
        "Exercise 01.2 (Build Part 1: PretrainedModel): PASS, 10/10 cases",
    ]


def test_the_student_notebook_is_not_done():
    done = run("notebooks/02_feature_extraction.ipynb")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and all("NOT DONE" in line for line in lines[1:])
    assert "save the notebook, then run this command again" in lines[2]


def _broken_copy(tmp_path: Path) -> Path:
    """solutions/01 with the 01.2 class issuing a RuntimeWarning instead of a UserWarning."""
    nb = json.loads((ROOT / "solutions" / "01_pretrained_model.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if source.startswith("### EXERCISE 01.2"):
            assert '"Nothing was changed.", UserWarning, stacklevel=3)' in source
            cell["source"] = source.replace('"Nothing was changed.", UserWarning',
                                            '"Nothing was changed.", RuntimeWarning')
    path = tmp_path / "mine.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_a_broken_class_fails_with_the_hint_of_its_mistake(tmp_path):
    done = run(str(_broken_copy(tmp_path)), "--exercise", "01.2")
    assert done.returncode == 1
    out = done.stdout
    assert "Exercise 01.2 (Build Part 1: PretrainedModel): FAIL, 9/10 cases" in out
    assert "issued a RuntimeWarning; the contract asks for a UserWarning" in out
    assert f"Hint: {get_exercise('01.2').hints['wrong_warning_class']}" in out
    assert "01.1" not in out  # --exercise checks that exercise only


def test_a_cell_that_crashes_is_an_error_with_its_line(tmp_path, capsys):
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": [
        "### EXERCISE 04.1\n", "def recommend_strategy(dataset_size, task_similarity):\n",
        "    return {}['missing']\n"]}]}
    path = tmp_path / "crash.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert main([str(path)]) == 1
    out = capsys.readouterr().out
    assert "Exercise 04.1 (Recommend a strategy): ERROR" in out
    assert "KeyError: 'missing' (line 3 of your cell)" in out


def test_an_exercise_cell_that_does_not_define_the_name(tmp_path, capsys):
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "### EXERCISE 04.1\nx = 1\n"}]}
    path = tmp_path / "empty.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert main([str(path)]) == 1
    assert "does not define `recommend_strategy`" in capsys.readouterr().out


def test_usage_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["solutions/01_pretrained_model.ipynb", "--exercise", "9.9"])
    assert info.value.code == 2
    (tmp_path / "bad.ipynb").write_text("not json", encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main([str(tmp_path / "bad.ipynb")])
    assert info.value.code == 2
    assert "cannot be read as a notebook" in capsys.readouterr().err
    assert main([str(ROOT / "solutions" / "00_introduction.ipynb")]) == 1
    assert "no exercise cell" in capsys.readouterr().out
    assert main([str(ROOT / "solutions" / "01_pretrained_model.ipynb"), "--exercise", "02.1"]) == 1
    assert "no exercise cell for ['02.1']" in capsys.readouterr().out


def test_a_cell_that_does_not_run_is_named_with_its_line(tmp_path, capsys):
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source":
                     "### EXERCISE 04.1\ndef recommend_strategy(n, s):\n    return 'fine_tuning'\n"
                     "1 / 0\n"}]}
    path = tmp_path / "raises.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert main([str(path)]) == 1
    out = capsys.readouterr().out
    assert "note: raises.ipynb, cell 1 raised ZeroDivisionError on line 4" in out
