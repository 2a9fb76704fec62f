"""Reproducible grades: a run records its hidden-case seed, and ``--seed`` replays it.

A student whose code is right for even dataset sizes only passes a hidden case by the luck
of the draw, so their grade depends on the seed: a regrade must not change it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grading import demo_class
from instructor.grading import sandbox

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(sandbox.isolation() != "namespaces",
                                reason="grades a class: needs the namespace sandbox (run as root)")

EVEN_ONLY = '''def recommend_strategy(dataset_size, task_similarity):
    if dataset_size % 2:
        return "fine_tuning"
''' + demo_class.HONEST["04.1"].split(":\n", 1)[1]


def _grade(folder: Path, out: Path, *extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-m", "instructor.grading", str(folder), "--out",
                           str(out), "--jobs", "2", "--exercises", "04.1", *extra],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert f"Hidden-case seed: {record['seed']}" in proc.stdout
    assert f"--seed {record['seed']}" in (out / "summary.txt").read_text(encoding="utf-8")
    return {"seed": record["seed"], "csv": (out / "grades.csv").read_text(encoding="utf-8"),
            "feedback": {p.name: p.read_text(encoding="utf-8")
                         for p in sorted((out / "feedback").iterdir())}}


def test_a_regrade_with_the_recorded_seed_reproduces_every_grade(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for student, code in (("honest", demo_class.HONEST["04.1"]), ("even_only", EVEN_ONLY)):
        (folder / f"{student}.ipynb").write_text(
            json.dumps(demo_class.notebook(("04.1", code))), encoding="utf-8")
    first = _grade(folder, tmp_path / "first")
    replay = _grade(folder, tmp_path / "replay", "--seed", str(first["seed"]))
    assert replay["seed"] == first["seed"]
    assert replay["csv"] == first["csv"]
    assert replay["feedback"] == first["feedback"]  # the same hidden cases, case by case
    # another seed draws other hidden cases (so the comparison above can fail)
    other = _grade(folder, tmp_path / "other", "--seed", str((first["seed"] + 1) % 2**63))
    assert other["feedback"]["even_only.txt"] != first["feedback"]["even_only.txt"]
    assert other["feedback"]["honest.txt"] == first["feedback"]["honest.txt"]


def test_the_seed_must_be_a_non_negative_63_bit_int(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = str(ROOT)
    (tmp_path / "class").mkdir()
    for bad in ("-1", str(2**63), "abc"):
        proc = subprocess.run([sys.executable, "-m", "instructor.grading", str(tmp_path / "class"),
                               "--out", str(tmp_path / "out"), "--seed", bad],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        assert proc.returncode == 2 and "--seed" in proc.stderr, (bad, proc.stderr)
