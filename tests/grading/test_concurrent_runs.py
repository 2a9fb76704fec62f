"""Two grader runs at once: a class that hogs processes cannot cost another class a point.

A user's process limit counts every process of that uid on the machine. When every run's
first sandbox ran as ``nobody``, a student holding 60 processes in one run made an honest
student of a concurrent run crash at fork. Each sandbox now runs as a uid leased for it
alone (:mod:`instructor.grading.uids`), within a process cgroup of its own.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grading import demo_class
from instructor.grading import sandbox, uids

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(sandbox.isolation() != "namespaces",
                                reason="needs the namespace sandbox (Linux, run as root)")
HOG_PROCESSES = 62  # bounded (never a fork bomb); the sandbox's pids.max of 64 stops it first
HOGGING = 50  # processes of one reserved uid that show the hog is holding them


def _reserved_uid_processes() -> dict[int, int]:
    """uid in the reserved range -> number of processes running as it."""
    counts: dict[int, int] = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            text = Path(f"/proc/{pid}/status").read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Uid:"):
                uid = int(line.split()[1])
                if uid in uids.RESERVED:
                    counts[uid] = counts.get(uid, 0) + 1
                break
    return counts


def _hogging() -> bool:
    return any(n >= HOGGING for n in _reserved_uid_processes().values())


def _grade(folder: Path, out: Path, timeout: float) -> list[str]:
    return [sys.executable, "-m", "instructor.grading", str(folder), "--out", str(out),
            "--jobs", "2", "--timeout", str(timeout), "--exercises", "04.1"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_a_process_hog_in_one_run_leaves_a_concurrent_run_exact(tmp_path):
    hog_class, honest_class = tmp_path / "hog_class", tmp_path / "honest_class"
    hog_class.mkdir()
    honest_class.mkdir()
    hog = f'''import subprocess, time
_kids = []
for _ in range({HOG_PROCESSES}):
    try:
        _kids.append(subprocess.Popen(["sleep", "60"]))
    except OSError:
        break
time.sleep(9)  # holds them while the other class is graded
''' + demo_class.HONEST["04.1"]
    (hog_class / "hog.ipynb").write_text(
        __import__("json").dumps(demo_class.notebook(("04.1", hog))), encoding="utf-8")
    # honest students whose code needs processes of its own
    forks = ("import subprocess\n_helpers = [subprocess.Popen(['sleep', '0.5']) for _ in range(5)]\n"
             "assert all(p.wait() == 0 for p in _helpers)\n")
    for name in ("ada", "bob", "cy"):
        (honest_class / f"{name}.ipynb").write_text(__import__("json").dumps(
            demo_class.notebook(("04.1", forks + demo_class.HONEST["04.1"]))), encoding="utf-8")

    first = subprocess.Popen(_grade(hog_class, tmp_path / "hog_out", 30), cwd=ROOT, env=_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not _hogging():
            assert first.poll() is None and time.monotonic() < deadline, "the hog never started"
            time.sleep(0.05)
        second = subprocess.run(_grade(honest_class, tmp_path / "honest_out", 20), cwd=ROOT,
                                env=_env(), capture_output=True, text=True, timeout=120)
        still_hogging = _hogging()
    finally:
        out, err = first.communicate(timeout=120)
    assert second.returncode == 0, second.stderr[-2000:]
    assert still_hogging, "the hog ended before the other class was graded; the test proves nothing"
    with open(tmp_path / "honest_out" / "grades.csv", encoding="utf-8", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == ["ada", "bob", "cy"]
    for name, row in rows.items():
        assert (row["04.1"], row["error"], row["flags"]) == ("10", "", ""), (name, row)
    assert first.returncode == 0, err[-2000:]
    with open(tmp_path / "hog_out" / "grades.csv", encoding="utf-8", newline="") as handle:
        assert next(csv.DictReader(handle))["04.1"] == "10"  # the hog's own code is right
