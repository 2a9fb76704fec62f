"""``python -m instructor.exercises --write-expected``: regenerate the shipped public answers."""

from __future__ import annotations

import argparse
import json
import sys

from instructor.exercises import expected, public_answers
from tlkit.exercises.registry import PUBLIC_EXPECTED_FILE, CheckFailure, all_exercises


def stale_answers() -> list[str]:
    """Why the shipped answers no longer fit the references (empty when they do).

    Answers are compared as the exercise's check compares them (a timing may differ from
    run to run), and every public case must have its answer for exactly its inputs.
    """
    problems = []
    for exercise in all_exercises():
        for case in exercise.public_cases:
            try:
                shipped = exercise.public_expected(case)
            except RuntimeError as exc:
                problems.append(str(exc))
                continue
            try:
                exercise.compare(case, expected(exercise.id, case), shipped)
            except CheckFailure as failure:
                problems.append(f"exercise {exercise.id}, case {case.name!r}: {failure.message}")
    return problems


def render() -> str:
    return json.dumps(public_answers(), indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor.exercises")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write-expected", action="store_true",
                       help=f"write {PUBLIC_EXPECTED_FILE.name} from the reference solutions")
    group.add_argument("--check", action="store_true",
                       help=f"exit 1 when {PUBLIC_EXPECTED_FILE.name} differs from the references")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale_answers()
        for problem in problems:
            print(problem)
        if problems:
            print(f"{PUBLIC_EXPECTED_FILE} is stale: run python -m instructor.exercises --write-expected")
        return 1 if problems else 0
    PUBLIC_EXPECTED_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {PUBLIC_EXPECTED_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
