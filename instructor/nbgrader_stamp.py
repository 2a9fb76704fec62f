"""Stamp nbgrader metadata on the exercise cells of ``solutions/`` (re-runnable).

Usage (under the notebook lock, from the repository root)::

    flock /tmp/tlkit-nb.lock python -m instructor.nbgrader_stamp          # write solutions/
    python -m instructor.nbgrader_stamp --check                            # exit 1 when stale

For every code cell whose first line is ``### EXERCISE <id>`` (an id of the exercise
registry):

* the exercise cell becomes an nbgrader *solution* cell (``grade_id`` ``ex<id>``);
* right after it sits a locked *grade* cell (``grade_id`` ``hidden<id>``, the exercise's
  points) whose ``### BEGIN HIDDEN TESTS`` region calls
  :func:`instructor.grading.hidden.hidden_points`; it is inserted when missing and moved back
  when it is elsewhere (after the check cell it would grade the fallback);
* the check cell (the first code cell after it calling ``check("<id>", ...)``) is locked
  (``grade_id`` ``check<id>``).

So ``nbgrader generate_assignment`` builds the student release from ``solutions/`` and
``nbgrader autograde`` gives points per exercise. Only the standard library is used
(and the registry, for the points and names).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from instructor.build_notebooks import render_notebook

__all__ = ["SCHEMA_VERSION", "hidden_source", "stamp_notebook", "main"]

SCHEMA_VERSION = 3
_MARKER = re.compile(r"^###[ ]EXERCISE[ ](\S+)[ \t]*$")
IGNORE_OUTPUT_TAG = "nbval-ignore-output"


def _grade_id(prefix: str, exercise_id: str) -> str:
    return prefix + exercise_id.replace(".", "_")


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _first_line(source: str) -> str:
    return next((line.rstrip() for line in source.splitlines() if line.strip()), "")


def hidden_source(exercise_id: str, name: str) -> str:
    return (
        "# Hidden tests: the grader runs more cases on your code here; nothing to do in this cell.\n"
        "### BEGIN HIDDEN TESTS\n"
        "from instructor.grading.hidden import hidden_points\n\n"
        f'hidden_points("{exercise_id}", {name})\n'
        "### END HIDDEN TESTS\n"
    )


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool,
          points: float | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"grade": grade, "grade_id": grade_id, "locked": locked,
                            "schema_version": SCHEMA_VERSION, "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def stamp_notebook(nb: dict[str, Any], exercises: dict[str, tuple[str, float]]) -> list[str]:
    """Stamp ``nb`` in place; ``exercises``: id -> (name, points). Returns what changed."""
    changes: list[str] = []
    cells = nb["cells"]
    index = 0
    while index < len(cells):
        cell = cells[index]
        match = _MARKER.match(_first_line(_source(cell))) if cell.get("cell_type") == "code" else None
        if not match or match.group(1) not in exercises:
            index += 1
            continue
        exercise_id = match.group(1)
        name, points = exercises[exercise_id]
        _set(cell, _meta(_grade_id("ex", exercise_id), grade=False, solution=True, locked=False),
             changes, f"exercise cell {exercise_id}")
        hidden_id = _grade_id("hidden", exercise_id)
        hidden = next((c for c in cells
                       if (c.get("metadata", {}).get("nbgrader") or {}).get("grade_id") == hidden_id),
                      None)
        if hidden is None:
            hidden = {"cell_type": "code", "execution_count": None,
                      "id": f"hidden-{exercise_id.replace('.', '-')}", "metadata": {},
                      "outputs": [], "source": ""}
            cells.insert(index + 1, hidden)
            changes.append(f"hidden-tests cell {exercise_id} inserted")
        elif index + 1 >= len(cells) or cells[index + 1] is not hidden:
            # it must test the student's code before the check cell's fallback replaces it
            cells.remove(hidden)
            index = cells.index(cell)
            cells.insert(index + 1, hidden)
            changes.append(f"hidden-tests cell {exercise_id} moved right after the exercise cell")
        want = hidden_source(exercise_id, name)
        if _source(hidden) != want:
            hidden["source"] = want
            changes.append(f"hidden-tests cell {exercise_id} source")
        tags = hidden.setdefault("metadata", {}).setdefault("tags", [])
        if IGNORE_OUTPUT_TAG not in tags:
            tags.append(IGNORE_OUTPUT_TAG)
        _set(hidden, _meta(hidden_id, grade=True, solution=False, locked=True, points=points),
             changes, f"hidden-tests cell {exercise_id}")
        call = re.compile(r"\bcheck\(\s*['\"]" + re.escape(exercise_id) + r"['\"]")
        for later in cells[index + 1:]:
            if later.get("cell_type") == "code" and call.search(_source(later)):
                _set(later, _meta(_grade_id("check", exercise_id), grade=False, solution=False,
                                  locked=True), changes, f"check cell {exercise_id}")
                break
        index += 1
    return changes


def _set(cell: dict[str, Any], meta: dict[str, Any], changes: list[str], what: str) -> None:
    metadata = cell.setdefault("metadata", {})
    if metadata.get("nbgrader") != meta:
        metadata["nbgrader"] = meta
        changes.append(what)


def _registry() -> dict[str, tuple[str, float]]:
    from tlkit.exercises.registry import all_exercises

    return {e.id: (e.name, float(e.points)) for e in all_exercises()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor.nbgrader_stamp",
                                     description="Stamp nbgrader metadata on solutions/.")
    parser.add_argument("--solutions", default="solutions")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when stale")
    args = parser.parse_args(argv)
    exercises = _registry()
    stale = 0
    for path in sorted(Path(args.solutions).glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        changes = stamp_notebook(nb, exercises)
        if not changes:
            continue
        stale += 1
        print(f"{path}: {'; '.join(changes)}")
        if not args.check:
            with open(path, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(render_notebook(nb))
    if args.check and stale:
        print(f"{stale} notebook(s) need `python -m instructor.nbgrader_stamp`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
