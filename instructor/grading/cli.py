"""``python -m instructor.grading SUBMISSIONS_DIR --out OUT_DIR [--jobs N] [--timeout S]
[--roster FILE] [--exercises IDS] [--seed S] [--memory MIB]``: grade a class of filled-in
notebooks.

Writes ``OUT_DIR/grades.csv`` (student, one column per exercise id, total, max, flags,
error), ``OUT_DIR/feedback/<student>.txt``, ``OUT_DIR/summary.txt`` and
``OUT_DIR/run.json`` (the hidden cases' seed, the isolation, the limits and those that
could not be applied); prints the class summary. The seed is drawn from the OS unless
``--seed`` gives one: ``--seed`` with the seed a run recorded draws the same hidden cases,
so a regrade reproduces every grade. OUT_DIR must not exist or be empty. Exit status 0
when every submission got a row (whatever its grade), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from instructor.grading import sandbox
from instructor.grading.grade import MAX_SEED, ClassRun, collect, grade_class, new_seed
from instructor.grading.report import class_summary, write_all
from instructor.grading.submissions import read_roster
from tlkit.exercises.registry import exercise_ids

__all__ = ["main", "progress_bar"]


def progress_bar(stream=None):
    """A progress callback: a redrawn bar on a terminal, a line per tenth otherwise."""
    stream = stream or sys.stderr
    tty = stream.isatty()
    last = [-1]

    def show(done: int, total: int) -> None:
        if total == 0:
            return
        width = 30
        filled = width * done // total
        text = f"grading [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        if tty:
            stream.write("\r" + text + ("\n" if done == total else ""))
        elif done * 10 // total != last[0]:
            last[0] = done * 10 // total
            stream.write(text + "\n")
        stream.flush()

    return show


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m instructor.grading",
        description="Grade the exercises of a class of filled-in notebooks, each student's "
        "code in its own sandbox.")
    parser.add_argument("submissions", metavar="SUBMISSIONS_DIR",
                        help="folder with <student>.ipynb files or <student>/ folders")
    parser.add_argument("--out", required=True, metavar="OUT_DIR",
                        help="new (or empty) folder for grades.csv, feedback/ and summary.txt")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="sandboxes in parallel (1)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="seconds per exercise and student before the run is killed (30)")
    parser.add_argument("--roster", metavar="FILE",
                        help="the expected students, one id per line; missing ones get a "
                        "'no submission' row")
    parser.add_argument("--exercises", metavar="IDS",
                        help="comma-separated exercise ids to grade (default: all of the course)")
    parser.add_argument("--seed", type=int, metavar="S",
                        help="the hidden cases' seed (default: a fresh one, recorded in "
                        "OUT_DIR/run.json and summary.txt; give a recorded seed to regrade "
                        "with the same hidden cases)")
    parser.add_argument("--memory", type=int, default=2048, metavar="MIB",
                        help="memory per sandbox in MiB: all its processes and in-memory files "
                        "(cgroup), and each process's address space (2048)")
    return parser


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def run_record(seed: int, exercises: list[str], mode: str, limits: sandbox.Limits,
               run: ClassRun | None = None) -> dict:
    """What ``run.json`` holds: enough to replay the run's hidden cases and know its limits."""
    record = {
        "seed": seed,
        "replay": f"--seed {seed}",
        "exercises": exercises,
        "isolation": mode,
        "limits": {"timeout_seconds": limits.timeout, "memory_mib": limits.memory_bytes >> 20,
                   "cpu_seconds": limits.cpu_seconds, "max_processes": limits.max_processes,
                   "open_files": limits.open_files, "result_bytes": limits.result_bytes},
        "limits_not_applied": sandbox.limits_not_applied(mode),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "finished": None,
    }
    if run is not None:
        peaks = [g.peak_memory for row in run.rows for g in row.grades.values()
                 if g.peak_memory is not None]
        record.update(finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"), students=len(run.rows),
                      sandboxed_runs=run.tasks, seconds=round(run.seconds, 1),
                      peak_sandbox_memory_mib=round(max(peaks) / 2**20, 1) if peaks else None)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    root = Path(args.submissions)
    if not root.is_dir():
        parser.error(f"SUBMISSIONS_DIR {str(root)!r} is not a folder")
    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        parser.error(f"--out {str(out)!r} exists and is not an empty folder; choose a new one "
                     f"(the grader never overwrites earlier grades)")
    if out.resolve().is_relative_to(root.resolve()):
        parser.error("--out must not be inside SUBMISSIONS_DIR")
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    if not args.timeout > 0:
        parser.error(f"--timeout must be > 0 seconds, got {args.timeout}")
    if args.memory < 256:
        parser.error(f"--memory must be >= 256 MiB, got {args.memory}")
    if args.seed is not None and not 0 <= args.seed <= MAX_SEED:
        parser.error(f"--seed must be an int in [0, 2**63 - 1], got {args.seed}")
    course = exercise_ids()
    exercises = course
    if args.exercises:
        exercises = [e.strip() for e in args.exercises.split(",") if e.strip()]
        unknown = [e for e in exercises if e not in course]
        if unknown or not exercises:
            parser.error(f"--exercises: unknown id(s) {unknown or args.exercises!r}; valid ids: "
                         f"{', '.join(course)}")
        exercises = [e for e in course if e in exercises]
    roster = None
    if args.roster:
        try:
            roster = read_roster(args.roster)
        except (OSError, ValueError) as exc:
            parser.error(f"--roster: {exc}")
    mode = sandbox.isolation()
    print(sandbox.isolation_report(mode), file=sys.stderr)
    limits = sandbox.Limits(timeout=args.timeout, memory_bytes=args.memory << 20,
                            cpu_seconds=max(1, int(args.timeout) + 1))
    seed = new_seed() if args.seed is None else args.seed
    submissions = collect(root, exercises, roster)
    out.mkdir(parents=True, exist_ok=True)
    # the seed is on disk before any student code runs: a run that dies can still be replayed
    _write_json(out / "run.json", run_record(seed, exercises, mode, limits))
    run = grade_class(submissions, exercises, limits=limits, jobs=args.jobs, mode=mode,
                      seed=seed, progress=progress_bar())
    csv_path = write_all(run, out)
    _write_json(out / "run.json", run_record(seed, exercises, mode, limits, run))
    seed_line = (f"Hidden-case seed: {seed} (regrade with the same hidden cases: --seed {seed}; "
                 f"see run.json)")
    with open(out / "summary.txt", "a", encoding="utf-8") as handle:
        handle.write(seed_line + "\n")
    print(class_summary(run))
    print(seed_line)
    print(f"Wrote {csv_path}, {len(run.rows)} feedback file(s) in {out / 'feedback'}/, "
          f"{out / 'summary.txt'} and {out / 'run.json'}.")
    return 0
